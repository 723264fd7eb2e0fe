import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { SqliteBackend } from '../../src/store/sqlite-backend.js';
import { runBackendContract } from './backend-contract.js';
import { runReaderContract } from './reader-contract.js';

const make = async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pi-contract-'));
  const backend = new SqliteBackend({ dataDir, fsync: 'normal', logger: silentLogger(), metrics: createMetrics({ processMetrics: false }) });
  await backend.open();
  return {
    backend,
    async cleanup() {
      await backend.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
};

runBackendContract('sqlite', make);
runReaderContract('sqlite', make);
