// Structured logs (pino). Secrets never reach a log line: redact the places they could appear.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = 'info', destination?: NodeJS.WritableStream): Logger {
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
          '*.key',
          'headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination as never,
  );
}

/** Hides query-string credentials (access_token, key, corpsecret) before a URL is logged. */
export function safeUrl(url: string): string {
  return url.replace(/([?&](?:access_token|key|corpsecret|response_code)=)[^&]*/g, '$1***');
}
