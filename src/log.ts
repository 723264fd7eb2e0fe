/**
 * Structured, leveled logs: JSON lines on stdout by default, pino-pretty for a person at a
 * terminal. Loggers are passed in, never imported, so tests can silence or capture them.
 */
import { pino, type Logger } from 'pino';
import type { LogFormat, LogLevel } from './config.js';
import { ConfigError } from './errors.js';

export type { Logger };

export function createLogger(level: LogLevel, format: LogFormat): Logger {
  if (format === 'pretty') {
    try {
      return pino({ level, transport: { target: 'pino-pretty', options: { destination: 1 } } });
    } catch (error) {
      // pino-pretty is a development dependency: production images log JSON only
      throw new ConfigError('--log-format', `pretty needs the pino-pretty package, which is not installed (${String(error)})`);
    }
  }
  return pino({ level, base: { pid: process.pid } });
}

/** For tests and for CLI commands that only talk to servers. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
