// The process logger: JSON lines on stderr (pino), level from --log-level or SKIFF_LOG_LEVEL.
import pino, { type Logger } from 'pino';

export function createLogger(level?: string): Logger {
  return pino({ level: level ?? process.env['SKIFF_LOG_LEVEL'] ?? 'info', base: { pid: process.pid } }, pino.destination(2));
}
