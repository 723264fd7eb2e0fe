/**
 * Memory check for the line cap: starts `serve` as a child, sends one line of N MB with no
 * newline, samples the server's RSS throughout, then ends the line and checks that the
 * connection answered ERROR once and still works. Run: node dist/bench/long-line.js [--megabytes 100]
 */
import net from 'node:net';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { MAIN_SCRIPT, startChildServer } from '../src/client/child-server.js';
import { mebibytes, residentBytes } from '../src/client/process-usage.js';

const { values } = parseArgs({ options: { megabytes: { type: 'string', default: '100' } } });
const totalBytes = Number(values.megabytes) * 1_000_000;
const chunk = Buffer.alloc(64 * 1024, 'a');

const server = await startChildServer(MAIN_SCRIPT, ['serve', '--port', '0', '--admin-port', 'off', '--in-memory']);
const pid = server.pid ?? 0;
try {
  const socket = net.connect({ host: '127.0.0.1', port: server.port });
  await once(socket, 'connect');
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (text: string) => {
    received += text;
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const rssBefore = residentBytes(pid);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, residentBytes(pid));
  }, 20);
  const startedAt = performance.now();
  for (let sent = 0; sent < totalBytes; sent += chunk.length) {
    if (!socket.write(chunk)) await once(socket, 'drain');
  }
  const seconds = (performance.now() - startedAt) / 1000;
  rssPeak = Math.max(rssPeak, residentBytes(pid));
  const rssAfterLine = residentBytes(pid);
  socket.write('\nINDEX|after-the-long-line|\nQUERY|after-the-long-line|\n');
  const deadline = Date.now() + 10_000;
  while (received.split('\n').length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  clearInterval(sampler);
  console.log(`sent ${mebibytes(totalBytes)} without a newline in ${seconds.toFixed(1)} s (${(totalBytes / 1e6 / seconds).toFixed(0)} MB/s)`);
  console.log(
    `server RSS: ${mebibytes(rssBefore)} before, peak ${mebibytes(rssPeak)} while sending (+${mebibytes(rssPeak - rssBefore)}), ${mebibytes(rssAfterLine)} after`,
  );
  console.log(`replies: ${JSON.stringify(received)} (expected "ERROR\\nOK\\nOK\\n")`);
  socket.destroy();
  process.exitCode = received === 'ERROR\nOK\nOK\n' ? 0 : 1;
} finally {
  await server.stop();
}
