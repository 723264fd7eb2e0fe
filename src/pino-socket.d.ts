/**
 * The part of pino-socket (plain JavaScript, no typings) that syslog-target.ts uses: its TCP
 * connection factory (unix sockets too), which returns a Writable and reports socket trouble as
 * events, never as 'error'.
 */
declare module 'pino-socket/lib/TcpConnection.js' {
  import type { Writable } from 'node:stream';

  interface TcpConnectionOptions {
    address?: string;
    port?: number;
    unixsocket?: string;
    reconnect?: boolean;
    sourceStream?: false;
    onBeforeDataWrite?: (data: Buffer) => Buffer;
  }

  export default function tcpConnection(options: TcpConnectionOptions): Writable;
}
