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

/** The logger as a plain (level, message, fields) function, for modules that take no winston. */
export function levelled(
  logger: Logger,
): (level: string, message: string, fields?: Record<string, unknown>) => void {
  return (level, message, fields) => logger.log(level, message, fields);
}
