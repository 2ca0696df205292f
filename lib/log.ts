import { pino, type Logger } from 'pino';

/** Keys whose values are secrets wherever they appear in a log object. */
export const REDACT_PATHS = [
  'accessToken',
  'access_token',
  'token',
  'password',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'asToken',
  'hsToken',
  '*.accessToken',
  '*.access_token',
  '*.token',
  '*.password',
  '*.authorization',
];

/** Structured JSON logs with secrets redacted by key. */
export function createLogger(name: string, level: string): Logger {
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}

export type { Logger };
