/**
 * The process logger: pino, one JSON object per line on stdout (or the given destination).
 * Children carry `requestId` so every line of a request can be found with one grep.
 */
import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; stdout by default. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'solidarity-ledger', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
    },
    // Synchronous writes: the last lines before an exit (a start-up failure) are not lost.
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
