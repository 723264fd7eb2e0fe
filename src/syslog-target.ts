/**
 * The last stage of the syslog log transport, run by pino in its worker thread: sends each record
 * that pino-syslog formatted (RFC 5424) to the receiver: over pino-socket's connections for TCP and
 * unix sockets, as one datagram per record for UDP.
 *
 * pino-socket's own transport entry resolves only once its first connection is made, so while the
 * receiver is down pino's worker never reports ready, and at exit the process waits 10 s and then
 * throws (thread-stream's "_flushSync took too long"). Its TCP connection, used here directly,
 * takes records from the start, drops them while the receiver cannot be reached, and reconnects
 * in the background. Its UDP connection is not used: it connects its socket, so the first datagram
 * refused by a closed port (ECONNREFUSED) fails the stream and stops all further logs, and a host
 * name that does not resolve makes every write throw. Socket trouble reaches the main thread as
 * thread-stream events, never as a stream error.
 */
import dgram from 'node:dgram';
import { Writable } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import tcpConnection from 'pino-socket/lib/TcpConnection.js';
import type { SyslogDestination } from './config.js';

/** Events this module sends to the logger's transport stream in the main thread. */
export const SYSLOG_EVENTS = {
  /** The connection failed, broke or could not send; args: { code, message }. */
  failed: 'syslogFailed',
  /** The connection is (again) established. */
  connected: 'syslogConnected',
} as const;

export interface SocketFailure {
  readonly code: string;
  readonly message: string;
}

/** RFC 6587 octet counting: each frame is its length in bytes, a space, and the message. */
function octetCounted(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `), message]);
}

function post(name: string, args: unknown[]): void {
  // the message shape thread-stream turns into an event on the main thread's stream
  parentPort?.postMessage({ code: 'EVENT', name, args });
}

function reportFailure(error: NodeJS.ErrnoException): void {
  const failure: SocketFailure = { code: error.code ?? '', message: error.message };
  post(SYSLOG_EVENTS.failed, [failure]);
}

/**
 * One datagram per record from an unconnected socket, so a refused or lost datagram costs only
 * itself. The host is looked up at each send (a few records a minute at the default level).
 */
function udpSender(host: string, port: number): Writable {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.on('error', reportFailure);
  return new Writable({
    write(record: Buffer, _encoding, done) {
      socket.send(record, port, host, (error) => {
        if (error !== null) reportFailure(error);
        done();
      });
    },
    destroy(error, done) {
      socket.close(() => done(error));
    },
  });
}

function tcpSender(options: Parameters<typeof tcpConnection>[0]): Writable {
  const connection = tcpConnection({ ...options, reconnect: true, sourceStream: false });
  connection.on('socketError', reportFailure);
  connection.on('open', () => post(SYSLOG_EVENTS.connected, []));
  return connection;
}

export default function syslogTarget(destination: SyslogDestination): Writable {
  switch (destination.transport) {
    case 'udp':
      return udpSender(destination.host, destination.port);
    case 'tcp':
      return tcpSender({ address: destination.host, port: destination.port, onBeforeDataWrite: octetCounted });
    case 'unix':
      // records end with a line feed (pino-syslog's `newline`): the framing unix stream receivers read
      return tcpSender({ unixsocket: destination.path });
  }
}
