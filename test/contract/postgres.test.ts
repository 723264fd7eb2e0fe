import { after, before } from 'node:test';
import { createTestBackend, startTestPostgres, type TestPostgres } from '../helpers/postgres-harness.js';
import { runBackendContract } from './backend-contract.js';
import { runReaderContract } from './reader-contract.js';

let db: TestPostgres;
before(async () => {
  db = await startTestPostgres();
});
after(() => db?.close());

const make = async () => {
  const backend = createTestBackend(await db.createDatabase());
  await backend.open();
  return { backend, cleanup: () => backend.close() };
};

runBackendContract('postgres', make);
// each run needs a database of its own, which takes PostgreSQL a few hundred milliseconds to create
runReaderContract('postgres', make, 20);
