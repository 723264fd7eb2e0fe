/**
 * The last minutes of traffic, sampled once a second from the metrics registry, so that the
 * console's charts have history the moment they open and no browser needs a Prometheus. Each
 * sample holds the commands per second by command and result over that second, and the 99th
 * percentile of command latency and of store commit time estimated from the histograms' buckets
 * as Prometheus' `histogram_quantile` does.
 */
import type { Registry } from 'prom-client';

export interface TimelineSample {
  /** End of the second it covers, in ms since the epoch. */
  readonly atMs: number;
  /** Commands per second by `COMMAND RESULT` (`INDEX OK`, `QUERY FAIL`, ...). */
  readonly commandsPerSecond: Readonly<Record<string, number>>;
  /** 99th percentile of command latency in ms; null when no command was answered. */
  readonly p99Ms: number | null;
  /** 99th percentile of a store commit in ms; null when nothing was committed. */
  readonly commitP99Ms: number | null;
}

/** Cumulative counts read at one instant. */
interface Reading {
  readonly atMs: number;
  readonly commands: Map<string, number>;
  /** Histogram bucket counts by upper bound in seconds, summed over labels. */
  readonly latency: Map<number, number>;
  readonly commit: Map<number, number>;
}

const SAMPLE_EVERY_MS = 1_000;
/** Five minutes of samples. */
const KEPT_SAMPLES = 300;
const COMMANDS_METRIC = 'package_indexer_commands_total';
const LATENCY_METRIC = 'package_indexer_command_duration_seconds';
const COMMIT_METRIC = 'package_indexer_store_commit_duration_seconds';

export class MetricsTimeline {
  readonly #registry: Registry;
  readonly #samples: TimelineSample[] = [];
  #last: Reading | undefined;
  #timer: NodeJS.Timeout;
  #sampling = false;

  constructor(registry: Registry, sampleEveryMs = SAMPLE_EVERY_MS) {
    this.#registry = registry;
    this.#timer = setInterval(() => void this.#sample(), sampleEveryMs);
    this.#timer.unref();
    void this.#sample();
  }

  /** The samples taken after `afterMs`, oldest first. */
  samplesAfter(afterMs: number): TimelineSample[] {
    return this.#samples.filter((sample) => sample.atMs > afterMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #sample(): Promise<void> {
    // a slow registry read must not overlap the next one
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      const reading = await this.#read();
      if (this.#last !== undefined) this.#samples.push(sampleBetween(this.#last, reading));
      if (this.#samples.length > KEPT_SAMPLES) this.#samples.shift();
      this.#last = reading;
    } finally {
      this.#sampling = false;
    }
  }

  async #read(): Promise<Reading> {
    const atMs = Date.now();
    const commands = new Map<string, number>();
    for (const { labels, value } of await this.#values(COMMANDS_METRIC)) commands.set(`${String(labels['command'])} ${String(labels['result'])}`, value);
    return { atMs, commands, latency: await this.#buckets(LATENCY_METRIC), commit: await this.#buckets(COMMIT_METRIC) };
  }

  async #values(name: string): Promise<Array<{ labels: Record<string, string | number | undefined>; value: number; metricName?: string }>> {
    const metric = this.#registry.getSingleMetric(name);
    return metric === undefined ? [] : (await metric.get()).values;
  }

  /**
   * Bucket counts of a histogram: a prom-client Histogram's `_bucket` samples, or, for one whose
   * series are published as counters of their own (the tallied command latency), the `_bucket` counter.
   */
  async #buckets(name: string): Promise<Map<number, number>> {
    const buckets = new Map<number, number>();
    const histogram = this.#registry.getSingleMetric(name) !== undefined;
    const samples = histogram ? (await this.#values(name)).filter(({ metricName }) => metricName === `${name}_bucket`) : await this.#values(`${name}_bucket`);
    for (const { labels, value } of samples) {
      const bound = labels['le'] === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels['le']);
      buckets.set(bound, (buckets.get(bound) ?? 0) + value);
    }
    return buckets;
  }
}

function sampleBetween(before: Reading, after: Reading): TimelineSample {
  const seconds = Math.max(after.atMs - before.atMs, 1) / 1000;
  const commandsPerSecond: Record<string, number> = {};
  for (const [key, total] of after.commands) commandsPerSecond[key] = round((total - (before.commands.get(key) ?? 0)) / seconds);
  return {
    atMs: after.atMs,
    commandsPerSecond,
    p99Ms: quantileMs(0.99, before.latency, after.latency),
    commitP99Ms: quantileMs(0.99, before.commit, after.commit),
  };
}

/**
 * The q-quantile of what was observed between two readings of a cumulative histogram, by linear
 * interpolation inside the bucket that holds it; in the open-ended bucket, its lower bound.
 */
export function quantileMs(q: number, before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number | null {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counted = (bound: number): number => (after.get(bound) ?? 0) - (before.get(bound) ?? 0);
  const total = counted(Number.POSITIVE_INFINITY);
  if (!(total > 0)) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const bound of bounds) {
    const upTo = counted(bound);
    if (upTo >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return round(lower * 1000);
      const share = upTo === below ? 1 : (rank - below) / (upTo - below);
      return round((lower + (bound - lower) * share) * 1000);
    }
    lower = bound;
    below = upTo;
  }
  return round(lower * 1000);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
