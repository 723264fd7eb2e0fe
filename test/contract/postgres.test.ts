import { after, before } from 'node:test';
import { createTestBackend, startTestPostgres, type TestPostgres } from '../helpers/postgres-harness.js';
import { runBackendContract } from './backend-contract.js';

let db: TestPostgres;
before(async () => {
  db = await startTestPostgres();
});
after(() => db?.close());

runBackendContract('postgres', async () => {
  const backend = createTestBackend(await db.createDatabase());
  await backend.open();
  return { backend, cleanup: () => backend.close() };
});
