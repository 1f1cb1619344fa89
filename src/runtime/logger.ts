import winston from 'winston';

export type Logger = winston.Logger;

/** JSON lines on stdout; child loggers carry {binding, requestId, ...}. */
export function createLogger(level = 'info', silent = false): Logger {
  return winston.createLogger({
    level,
    silent,
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors(),
      winston.format.json(),
    ),
    transports: [new winston.transports.Console()],
  });
}
