/**
 * Capacity check: starts `serve` as a child with a high connection limit, holds N idle
 * connections open, reports the server's RSS before and after, and times how long a new client
 * then waits for an answer. Run: node dist/bench/idle-connections.js [--connections 10000]
 */
import { parseArgs } from 'node:util';
import { MAIN_SCRIPT, startChildServer } from '../src/client/child-server.js';
import { connectMany } from '../src/client/connect-many.js';
import { ProtocolClient } from '../src/client/protocol-client.js';
import { mebibytes, residentBytes } from '../src/client/process-usage.js';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '10000' }, limit: { type: 'string', default: '20000' } } });
const count = Number(values.connections);

async function timeNewClient(port: number): Promise<number> {
  const startedAt = performance.now();
  const client = await ProtocolClient.connect('127.0.0.1', port);
  const reply = await client.request('QUERY|nothing-here|\n');
  const elapsedMs = performance.now() - startedAt;
  client.close();
  if (reply !== 'FAIL') throw new Error(`expected FAIL, got ${reply}`);
  return elapsedMs;
}

const server = await startChildServer(MAIN_SCRIPT, ['serve', '--port', '0', '--admin-port', 'off', '--in-memory', '--connection-limit', String(values.limit)]);
const pid = server.pid ?? 0;
try {
  const rssBefore = residentBytes(pid);
  const openedAt = performance.now();
  const idle = await connectMany([{ host: '127.0.0.1', port: server.port }], count);
  const openSeconds = (performance.now() - openedAt) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const rssAfter = residentBytes(pid);
  const waits: number[] = [];
  for (let i = 0; i < 20; i++) waits.push(await timeNewClient(server.port));
  waits.sort((a, b) => a - b);
  const stillOpen = idle.filter((client) => !client.socket.destroyed).length;
  console.log(`idle connections held: ${stillOpen} of ${count} (opened in ${openSeconds.toFixed(1)} s, limit ${values.limit})`);
  console.log(
    `server RSS: ${mebibytes(rssBefore)} before, ${mebibytes(rssAfter)} with them open (${((rssAfter - rssBefore) / count / 1024).toFixed(1)} KiB per connection)`,
  );
  console.log(`a new client's connect + QUERY round trip, 20 tries: median ${waits[10]?.toFixed(2)} ms, max ${waits.at(-1)?.toFixed(2)} ms`);
  for (const client of idle) client.close();
} finally {
  await server.stop();
}
