import { MemoryBackend } from '../../src/store/memory-backend.js';
import { runBackendContract } from './backend-contract.js';

runBackendContract('memory', async () => {
  const backend = new MemoryBackend();
  await backend.open();
  return { backend, cleanup: () => backend.close() };
});
