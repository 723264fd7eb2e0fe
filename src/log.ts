/**
 * Structured, leveled logs: JSON lines on stdout by default, pino-pretty for a person at a
 * terminal, or RFC 5424 records to a syslog receiver. Loggers are passed in, never imported, so
 * tests can silence or capture them.
 *
 * Syslog goes through a pino transport (a worker thread): pino-syslog formats each record, and
 * syslog-target.ts sends it with pino-socket. A receiver that is down never blocks or stops the
 * server: records are dropped while it cannot be reached, and a line on stderr says so.
 */
import type { EventEmitter } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import type { Config, LogDestination, LogLevel, SyslogDestination } from './config.js';
import { ConfigError } from './errors.js';
import { SYSLOG_EVENTS, type SocketFailure } from './syslog-target.js';

export type { Logger };

export type LogSettings = Pick<Config, 'logLevel' | 'logFormat' | 'logDestination'>;

/** Where a problem with the log transport itself is told: the logs may be what is broken. */
export type TransportReport = (line: string) => void;

/** RFC 5424 APP-NAME of every record. */
const SYSLOG_APP_NAME = 'package-indexer';

const SYSLOG_TARGET = fileURLToPath(new URL('./syslog-target.js', import.meta.url));
const UNIX_PROBE_TIMEOUT_MS = 2_000;

function reportOnStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

export async function createLogger(settings: LogSettings, report: TransportReport = reportOnStderr): Promise<Logger> {
  const { logLevel: level, logFormat: format, logDestination: destination } = settings;
  if (destination.transport !== 'stdout') {
    if (format === 'pretty') throw new ConfigError('--log-format', 'pretty applies to --log-destination stdout only');
    return syslogLogger(level, destination, report);
  }
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

/** The destination as the user writes it. */
function describeLogDestination(destination: LogDestination): string {
  switch (destination.transport) {
    case 'stdout':
      return 'stdout';
    case 'unix':
      return `unix://${destination.path}`;
    default:
      return `${destination.transport}://${destination.host.includes(':') ? `[${destination.host}]` : destination.host}:${destination.port}`;
  }
}

async function syslogLogger(level: LogLevel, destination: SyslogDestination, report: TransportReport): Promise<Logger> {
  await checkSyslogDestination(destination);
  const transport = pino.transport<Record<string, unknown>>({
    pipeline: [
      // unix stream receivers read line feed framed records; TCP frames are octet-counted in the target
      { target: 'pino-syslog', options: { modern: true, appname: SYSLOG_APP_NAME, newline: destination.transport === 'unix' } },
      { target: SYSLOG_TARGET, options: destination },
    ],
  });
  watchTransport(transport, destination, report);
  // RFC 5424 needs the HOSTNAME and PROCID that pino-syslog reads from each record
  return pino({ level, base: { pid: process.pid, hostname: os.hostname() } }, transport);
}

/**
 * Refuses at startup a datagram unix socket, which can never work, so that it is not mistaken
 * for a receiver that is down.
 */
async function checkSyslogDestination(destination: SyslogDestination): Promise<void> {
  if (destination.transport === 'unix' && (await streamConnectError(destination.path)) === 'EPROTOTYPE') {
    throw new ConfigError('--log-destination', datagramSocketExplanation(destination.path));
  }
}

/** The error code of a stream connection to a unix socket, or undefined when it connects (or says nothing in time). */
function streamConnectError(path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ path });
    const done = (code: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(code);
    };
    const timer = setTimeout(() => done(undefined), UNIX_PROBE_TIMEOUT_MS);
    socket.once('connect', () => done(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code));
  });
}

function datagramSocketExplanation(path: string): string {
  return (
    `${path} is a datagram unix socket (as /dev/log is on Linux), and Node.js connects to stream unix sockets only; ` +
    'send to udp://127.0.0.1:514, or have the syslog daemon listen on a stream socket (rsyslog imptcp path=..., syslog-ng unix-stream())'
  );
}

/** One line on the report when records start being dropped, one when they flow again. */
function watchTransport(transport: EventEmitter, destination: SyslogDestination, report: TransportReport): void {
  const where = describeLogDestination(destination);
  let dropping = false;
  let stopped = false;
  transport.on(SYSLOG_EVENTS.failed, (failure: SocketFailure) => {
    if (dropping) return;
    dropping = true;
    const why = failure.code === 'EPROTOTYPE' && destination.transport === 'unix' ? datagramSocketExplanation(destination.path) : failure.message;
    const retry = destination.transport === 'udp' ? '' : ' (reconnecting)';
    report(`package-indexer: cannot send logs to ${where}: ${why}; records are dropped until it can be reached${retry}`);
  });
  transport.on(SYSLOG_EVENTS.connected, () => {
    if (dropping) report(`package-indexer: sending logs to ${where} again`);
    dropping = false;
  });
  transport.on('error', (error: Error) => {
    if (stopped) return;
    stopped = true;
    report(`package-indexer: the syslog transport to ${where} stopped (${error.message}); no further records are sent`);
  });
}
