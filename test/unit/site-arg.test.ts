// --site: which site of a district a command is about; a one-site install needs none.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSite, siteOption } from '../../src/cli/site-arg.js';

function district(ids: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'houqin-site-arg-'));
  const text = readFileSync('config/example.yaml', 'utf8').replace(/\$\{[A-Z_]+\}/g, 'x');
  for (const id of ids) writeFileSync(join(dir, `${id}.yaml`), text);
  return dir;
}

describe('--site', () => {
  it('is taken out of the arguments, in both spellings', () => {
    expect(siteOption(['list', '--site', 'a', '--json'])).toEqual({ id: 'a', args: ['list', '--json'] });
    expect(siteOption(['--site=b'])).toEqual({ id: 'b', args: [] });
    expect(siteOption(['list'])).toEqual({ id: undefined, args: ['list'] });
  });

  it('is not needed for one site, and its prefix is the one-site prefix', () => {
    const p = loadSite({ HOUQIN_CONFIG: 'config/example.yaml' }, ['list']);
    expect([p.site.id, p.prefix, p.args]).toEqual(['default', 'houqin', ['list']]);
  });

  it("picks a district's site by id, with its tagged prefix, and asks when none is given", () => {
    const dir = district(['north', 'south']);
    const p = loadSite({ HOUQIN_CONFIG: dir }, ['--site', 'south']);
    expect([p.site.id, p.prefix]).toEqual(['south', 'houqin:{t:south}']);
    expect(() => loadSite({ HOUQIN_CONFIG: dir }, [])).toThrow(
      /district of 2 sites: say which with --site \(north, south\)/,
    );
    expect(() => loadSite({ HOUQIN_CONFIG: dir }, ['--site', 'east'])).toThrow(/no site "east"/);
  });
});
