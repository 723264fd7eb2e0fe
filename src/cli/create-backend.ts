/**
 * Chooses the store a `serve` run uses from its configuration.
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Backend } from '../store/backend.js';
import { MemoryBackend } from '../store/memory-backend.js';

export function createBackend(config: Config, _logger: Logger, _metrics: Metrics): Backend {
  return new MemoryBackend();
}
