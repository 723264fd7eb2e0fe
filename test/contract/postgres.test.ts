import { after, before } from 'node:test';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { PostgresBackend } from '../../src/store/postgres-backend.js';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres-harness.js';
import { runBackendContract } from './backend-contract.js';

let db: TestPostgres;
before(async () => {
  db = await startTestPostgres();
});
after(() => db?.close());

runBackendContract('postgres', async () => {
  const backend = new PostgresBackend({ url: await db.createDatabase(), poolSize: 4, logger: silentLogger(), metrics: createMetrics({ processMetrics: false }) });
  await backend.open();
  return { backend, cleanup: () => backend.close() };
});
