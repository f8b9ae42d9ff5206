// Structured logs (pino). Secrets never reach a log line: redact the places they could appear.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/**
 * Readable lines for a person at a terminal; JSON lines for everything that collects logs (Docker, systemd, a pipe).
 * LOG_FORMAT=json|pretty overrides; production never guesses pretty.
 */
export function logFormat(env: Record<string, string | undefined>, isTTY: boolean): LogFormat {
  if (env.LOG_FORMAT === 'json' || env.LOG_FORMAT === 'pretty') return env.LOG_FORMAT;
  return isTTY && env.NODE_ENV !== 'production' ? 'pretty' : 'json';
}

export function createLogger(level = 'info', destination?: NodeJS.WritableStream, format: LogFormat = 'json'): Logger {
  // pino-pretty as a plain stream, not a transport: no worker thread for a process that is often held to one core.
  const out =
    format === 'pretty'
      ? pretty({
          colorize: true,
          translateTime: 'SYS:HH:MM:ss',
          ignore: 'pid,hostname,svc',
          singleLine: true,
          sync: true,
          destination,
        })
      : destination;
  return pino(
    {
      level,
      base: { svc: 'houqin' },
      redact: {
        paths: [
          '*.secret',
          '*.token',
          '*.aesKey',
          '*.access_token',
          '*.corpsecret',
          '*.webhookKey',
          '*.webhook',
          '*.sign',
          '*.key',
          'headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    out as never,
  );
}

/** Hides query-string credentials (access_token, key, corpsecret) before a URL is logged. */
export function safeUrl(url: string): string {
  return url.replace(/([?&](?:access_token|key|corpsecret|response_code)=)[^&]*/g, '$1***');
}
