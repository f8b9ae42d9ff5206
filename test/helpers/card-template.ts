// Houqin's DingTalk card template as shipped (config/dingtalk-card-template.json, the card platform's export format:
// `editorData` is the designer's schema as a JSON string, `widgetInfo` the layout it compiles to). Read by the
// template's unit test and by the fake DingTalk, which checks every cardParamMap against these variables.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const TEMPLATE_FILE = join(resolve(import.meta.dirname, '..', '..'), 'config', 'dingtalk-card-template.json');

export interface TemplateVariable {
  name: string;
  type: string;
  private: boolean;
}

export interface ShippedTemplate {
  raw: { editorData: string; widgetInfo: string; type: string; mode: string };
  editor: any;
  variables: TemplateVariable[];
}

export function readTemplate(file = TEMPLATE_FILE): ShippedTemplate {
  const raw = JSON.parse(readFileSync(file, 'utf8'));
  const editor = JSON.parse(raw.editorData);
  const variables = (editor.variableList as any[]).map((v) => ({ name: v.name, type: v.type, private: !!v.private }));
  return { raw, editor, variables };
}

/** Every variable the designer's components use: `${name}` in texts and `variable: "name"` in bindings. */
export function boundVariables(node: unknown, out = new Set<string>()): Set<string> {
  if (typeof node === 'string') for (const m of node.matchAll(/\$\{(\w+)\}/g)) out.add(m[1]);
  else if (Array.isArray(node)) for (const x of node) boundVariables(x, out);
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) {
      if (k === 'variable' && typeof v === 'string' && v) out.add(v);
      else boundVariables(v, out);
    }
  return out;
}
