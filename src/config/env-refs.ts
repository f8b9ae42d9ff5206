// `${NAME}` references in a configuration's strings, read from the environment before the schema sees the file, so
// secrets stay out of the YAML. A whole value `${NAME}` becomes the variable's text; a part of a value
// ("https://host/${NAME}/x") is spliced in. What comes out is always text: the schema reads numbers and yes/no out of
// text where it expects them (numberFromText, envNumber, envFlag below), so `agentId: ${WECOM_AGENT_ID}` works.
// Only names and YAML paths are ever reported, never what a variable holds.
import { z } from 'zod';

type Env = Record<string, string | undefined>;
type Path = (string | number)[];

// Upper-case names only, as the one-file config has always read them: `${lower}` stays literal text.
const WHOLE = /^\$\{([A-Z0-9_]+)\}$/;
const PART = /\$\{([A-Z0-9_]+)\}/g;

/** A reference whose variable is unset or empty, and where it stands in the file. */
export interface UnsetRef {
  path: Path;
  name: string;
}

/**
 * The parsed YAML with every reference replaced. An unset (or empty) variable leaves a whole value out (undefined,
 * so an optional field is simply absent, as it always was for a one-file config) and a part empty; each is listed
 * in `unset`, and the caller decides whether that stops the start.
 */
export function resolveEnvRefs(value: unknown, env: Env): { value: unknown; unset: UnsetRef[] } {
  const unset: UnsetRef[] = [];
  const read = (name: string, path: Path): string | undefined => {
    const v = env[name];
    if (v === undefined || v === '') unset.push({ path, name });
    return v || undefined;
  };
  const walk = (v: unknown, path: Path): unknown => {
    if (typeof v === 'string') {
      const whole = WHOLE.exec(v);
      if (whole) return read(whole[1], path);
      return v.replace(PART, (_, name: string) => read(name, path) ?? '');
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, [...path, k]);
      return out;
    }
    return v;
  };
  return { value: walk(value, []), unset };
}

/** A YAML path as the error messages write it: `chats[3].wecom.webhookKey`. */
export function pathText(path: readonly PropertyKey[]): string {
  if (!path.length) return '(top level)';
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}

/** One line per unset reference: where, and which variable. */
export function unsetLines(unset: UnsetRef[]): string[] {
  return unset.map((u) => `  ${pathText(u.path)}: environment variable ${u.name} is unset or empty`);
}

const DECIMAL = /^\s*-?\d+(?:\.\d+)?\s*$/;

/**
 * Text that is a plain decimal number, as a number; anything else as it was, so the schema's own message names the
 * field. Not z.coerce.number(): that reads '' as 0 and `true` as 1, which would hide a mistake.
 */
export function numberFromText(v: unknown): unknown {
  return typeof v === 'string' && DECIMAL.test(v) ? Number(v) : v;
}

/** A number field that may be given as `${NAME}`. */
export function envNumber<T extends z.ZodType>(schema: T) {
  return z.preprocess(numberFromText, schema);
}

/** A yes/no field that may be given as `${NAME}`: the text `true` or `false`. Not z.coerce.boolean(): "false" is true there. */
export function envFlag<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), schema);
}
