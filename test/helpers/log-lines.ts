// A logger whose lines a test can read: each JSON line pino writes, as written.
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';

export function capturedLogger(level: Parameters<typeof createLogger>[0] = 'debug') {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _e, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { log: createLogger(level, sink, 'json'), lines };
}
