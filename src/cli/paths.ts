// Paths relative to the package, so `npx houqin …` works from any directory.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export function defaultConfigPath(): string {
  return join(packageRoot(), 'config', 'example.yaml');
}
