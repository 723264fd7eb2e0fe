import { MemoryBackend } from '../../src/store/memory-backend.js';
import { runBackendContract } from './backend-contract.js';
import { runReaderContract } from './reader-contract.js';

const make = async () => {
  const backend = new MemoryBackend();
  await backend.open();
  return { backend, cleanup: () => backend.close() };
};

runBackendContract('memory', make);
runReaderContract('memory', make);
