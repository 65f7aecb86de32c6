// Structured JSON logs (pino); a readable, coloured format when a person is watching a terminal.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export function createLogger(level: string, fields: Record<string, string> = {}): Logger {
  // No request is logged (app.ts); should one ever be, with its headers, its credential is not.
  const redact = { paths: ['authorization', 'headers.authorization', 'req.headers.authorization', 'request.headers.authorization'], censor: '[redacted]' };
  const options = { level, base: { pid: process.pid, ...fields }, redact };
  if (process.stdout.isTTY) {
    return pino(options, pretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true }));
  }
  return pino(options);
}
