// The narrow logger the node channel and broker take (a pino Logger satisfies it); silent by default.

export interface ChannelLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const ignore = () => {};
export const silentLogger: ChannelLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
