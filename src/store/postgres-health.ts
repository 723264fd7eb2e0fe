/**
 * Whether the shared database can be reached, as the PostgreSQL backend, /readyz and the logs
 * see it. A failed connection only makes the database suspect; a probe decides. While the probe
 * fails the database is unavailable (commands are answered ERROR without trying it) and probes
 * continue with backoff; the first probe that succeeds makes it available again. One error log
 * marks the start of an outage and one info log its end, however many commands it touched.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';

/** Waits between probes during an outage, in ms; the last repeats. */
const PROBE_DELAYS_MS = [0, 100, 250, 500, 1_000] as const;
/** The same unexpected database error is logged at most this often, in ms. */
const FAULT_LOG_INTERVAL_MS = 60_000;

export type FailureKind = 'fail' | 'retry' | 'unavailable' | 'fault';

export class PostgresHealth {
  #logger: Logger;
  #probe: () => Promise<void>;
  #available = false;
  #probing = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #downSince = 0;
  #faultsLoggedAt = new Map<string, number>();
  #availableGauge: Gauge;
  #outages: Counter;
  #retries: Counter<'sqlstate'>;

  constructor(logger: Logger, metrics: Metrics, probe: () => Promise<void>) {
    this.#logger = logger;
    this.#probe = probe;
    const { registry } = metrics;
    this.#availableGauge = metric(
      registry,
      'package_indexer_postgres_available',
      () =>
        new Gauge({ name: 'package_indexer_postgres_available', help: '1 while the PostgreSQL database answers, 0 during an outage.', registers: [registry] }),
    );
    this.#outages = metric(
      registry,
      'package_indexer_postgres_outages_total',
      () => new Counter({ name: 'package_indexer_postgres_outages_total', help: 'Times the PostgreSQL database became unreachable.', registers: [registry] }),
    );
    this.#retries = metric(
      registry,
      'package_indexer_postgres_retries_total',
      () =>
        new Counter({
          name: 'package_indexer_postgres_retries_total',
          help: 'Statements retried after a serialization failure or deadlock, by SQLSTATE.',
          labelNames: ['sqlstate'] as const,
          registers: [registry],
        }),
    );
  }

  get available(): boolean {
    return this.#available;
  }

  opened(): void {
    this.#available = true;
    this.#availableGauge.set(1);
  }

  /** A connection failed: probe now, unless a probe is already on it. */
  suspect(error: unknown): void {
    if (this.#closed || this.#probing) return;
    this.#logger.debug({ err: error }, 'a PostgreSQL connection failed; probing the database');
    this.#probing = true;
    this.#scheduleProbe(0);
  }

  /** A command was answered ERROR because of `error`. */
  failed(kind: FailureKind, error: unknown, command: string): void {
    if (kind === 'unavailable') {
      this.suspect(error);
      return;
    }
    const code = hasSqlState(error) ? error.code : kind;
    const now = Date.now();
    if (now - (this.#faultsLoggedAt.get(code) ?? -Infinity) < FAULT_LOG_INTERVAL_MS) return;
    this.#faultsLoggedAt.set(code, now);
    this.#logger.error({ err: error, command, kind }, 'PostgreSQL refused a command; answered ERROR');
  }

  countRetry(sqlstate: string): void {
    this.#retries.labels(sqlstate).inc();
  }

  close(): void {
    this.#closed = true;
    this.#available = false;
    clearTimeout(this.#timer);
  }

  #scheduleProbe(attempt: number): void {
    const delay = PROBE_DELAYS_MS[Math.min(attempt, PROBE_DELAYS_MS.length - 1)] ?? 0;
    this.#timer = setTimeout(() => void this.#runProbe(attempt), delay);
    this.#timer.unref();
  }

  async #runProbe(attempt: number): Promise<void> {
    try {
      await this.#probe();
    } catch (error) {
      if (this.#closed) return;
      this.#markDown(error);
      this.#scheduleProbe(attempt + 1);
      return;
    }
    this.#probing = false;
    if (!this.#closed && !this.#available) this.#markUp();
  }

  #markDown(error: unknown): void {
    if (!this.#available) return;
    this.#available = false;
    this.#downSince = Date.now();
    this.#availableGauge.set(0);
    this.#outages.inc();
    this.#logger.error({ err: error }, 'PostgreSQL is unreachable; answering ERROR until it is back');
  }

  #markUp(): void {
    this.#available = true;
    this.#availableGauge.set(1);
    this.#logger.info({ outageMs: Date.now() - this.#downSince }, 'PostgreSQL is reachable again');
  }
}

export function hasSqlState(error: unknown): error is { code: string; severity: string } {
  if (typeof error !== 'object' || error === null || !('severity' in error) || !('code' in error)) return false;
  return typeof error.code === 'string' && /^[0-9A-Z]{5}$/.test(error.code);
}

/** One metric per registry, even when several backends share it. */
export function metric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
