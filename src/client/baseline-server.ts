/**
 * The trivial baseline for `bench --baseline`: a node:net server with no logic at all, answering
 * `OK\n` to every line. Framing is one indexOf('\n') scan per chunk and one write per chunk, so
 * its figures are what Node's sockets alone cost on this machine; our server's overhead is the
 * difference. Usage: node dist/src/client/baseline-server.js [PORT] (default 0: any free port); it
 * prints `{"msg":"baseline listening","address":{"port":N}}` on stdout once it listens, and sends
 * its address to a parent that spawned it with an IPC channel.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { announceListening } from './listening-message.js';

const LF = 0x0a; // \n
const OK = Buffer.from('OK\n');

function replies(count: number): Buffer {
  return count === 1 ? OK : Buffer.from('OK\n'.repeat(count));
}

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('data', (chunk: Buffer) => {
    let lines = 0;
    for (let at = chunk.indexOf(LF); at >= 0; at = chunk.indexOf(LF, at + 1)) lines++;
    if (lines > 0) socket.write(replies(lines));
  });
  socket.on('error', () => socket.destroy());
});

const port = Number(process.argv[2] ?? 0);
server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => {
  const address = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'baseline listening', address: { port: address.port } })}\n`);
  announceListening(address);
});

const stop = (): void => {
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
