/**
 * What `npm test` runs (built, as dist/test/run-tests.js): one throwaway PostgreSQL for the whole
 * run, named to every test file in PACKAGE_INDEXER_TEST_POSTGRES, then `node --test` over every
 * built test file, then the cluster is stopped. Starting a cluster costs more than most test files
 * take; one per file was most of the PostgreSQL tests' time. When the variable is already set, the
 * cluster it names is used and none is started.
 *
 * Arguments are handed to `node --test` as they are; `.test.js` files among them replace the full list:
 *   node dist/test/run-tests.js --test-reporter=spec dist/test/integration/postgres-races.test.js
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED_CLUSTER_VARIABLE, startOwnTestPostgres, type OwnTestPostgres } from '../src/dev/postgres-cluster.js';

const TEST_ROOT = path.dirname(fileURLToPath(import.meta.url));

function builtTestFiles(): string[] {
  return readdirSync(TEST_ROOT, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.js'))
    .map((file) => path.join(TEST_ROOT, file))
    .sort();
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const files = args.some((arg) => arg.endsWith('.test.js')) ? [] : builtTestFiles();
  let cluster: OwnTestPostgres | undefined;
  const env = { ...process.env };
  if ((env[SHARED_CLUSTER_VARIABLE] ?? '') === '') {
    cluster = await startOwnTestPostgres();
    env[SHARED_CLUSTER_VARIABLE] = cluster.maintenanceUrl;
  }
  try {
    const child = spawn(process.execPath, ['--test', ...args, ...files], { stdio: 'inherit', env });
    // an interrupted run still stops the cluster: the signal goes to the tests, which then end
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    return code ?? (signal === null ? 1 : 128);
  } finally {
    await cluster?.close();
  }
}

process.exitCode = await main();
