// Site files for the tenant loader's tests: the smallest valid site, and a temporary folder of files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A site that passes the schema: one manager, one team for every kind. `extra` is appended YAML. */
export function siteYaml(name: string, extra = ''): string {
  return `org: { name: ${name} }
people:
  - { id: wang, name: 王主任, roles: [manager] }
teams:
  - { id: houqin, name: 后勤组, kinds: [repair, cleaning, meal], members: [wang] }
routing:
  - { kind: repair, team: houqin }
  - { kind: cleaning, team: houqin }
  - { kind: meal, team: houqin }
sla:
  normal: { remind: 30m, assign: 1h, escalate: 2h, claimTarget: 30m, finishTarget: 24h }
  urgent: { remind: 5m, assign: 10m, escalate: 20m, claimTarget: 10m, finishTarget: 4h }
${extra}`;
}

/** A fresh temporary folder holding `files` (name → text; names may have sub-folders). */
export function siteFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'houqin-tenants-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const made: string[] = [];

/** Removes every folder siteFolder made (call it in afterAll). */
export function removeSiteFolders(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
