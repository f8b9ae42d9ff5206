#!/usr/bin/env node
// Runs one TypeScript file through tsx (used by `npm run bench`).
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
const { register } = await import('tsx/esm/api');
register();
await import(pathToFileURL(resolve(process.argv[2])).href);
