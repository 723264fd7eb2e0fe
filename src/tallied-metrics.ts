/**
 * Metrics for the per-command hot path. prom-client validates and hashes the labels on every
 * `inc` and `observe`, even through a bound child, which costs more than answering a QUERY. These
 * count into plain numbers instead and hand their totals to the registry only when it is scraped,
 * through the `collect()` hook of real prom-client counters (its public API, nothing hand-built).
 */
import { Counter, type Registry } from 'prom-client';
import type { CommandName, Reply } from './protocol/types.js';

const COMMANDS: readonly CommandName[] = ['INDEX', 'REMOVE', 'QUERY'];
const REPLIES: readonly Reply[] = ['OK', 'FAIL', 'ERROR'];

/** A counter whose hot path is one addition; the registry reads its total at scrape time. */
export function talliedCounter(registry: Registry, name: string, help: string): { inc(amount?: number): void } {
  let total = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(total);
    },
  });
  return {
    inc(amount = 1) {
      total += amount;
    },
  };
}

/** A counter with one label whose values are all known up front. */
export function talliedLabelledCounter<V extends string>(
  registry: Registry,
  name: string,
  help: string,
  label: string,
  values: readonly V[],
): (value: V) => void {
  const totals = new Map<V, number>(values.map((value) => [value, 0]));
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      this.reset();
      for (const [value, total] of totals) this.inc({ [label]: value }, total);
    },
  });
  return (value) => totals.set(value, (totals.get(value) ?? 0) + 1);
}

function bump(counts: Float64Array, index: number): void {
  counts[index] = (counts[index] ?? 0) + 1;
}

interface Tally {
  readonly replies: Float64Array;
  /** Observations per bucket: index i counts values ≤ bounds[i] and > bounds[i-1]; the last, the rest. */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * Commands answered by command and reply (a counter), and their latency by command (histogram
 * series), both fed by one call per command.
 */
export class CommandTally {
  #bounds: readonly number[];
  #tallies: Record<CommandName, Tally>;

  constructor(
    registry: Registry,
    options: { counterName: string; counterHelp: string; histogramName: string; histogramHelp: string; bucketsSeconds: readonly number[] },
  ) {
    this.#bounds = options.bucketsSeconds;
    const fresh = (): Tally => ({ replies: new Float64Array(REPLIES.length), buckets: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 });
    this.#tallies = { INDEX: fresh(), REMOVE: fresh(), QUERY: fresh() };
    const tallies = this.#tallies;
    new Counter({
      name: options.counterName,
      help: options.counterHelp,
      labelNames: ['command', 'result'],
      registers: [registry],
      collect() {
        this.reset();
        for (const command of COMMANDS) {
          REPLIES.forEach((result, r) => this.inc({ command, result }, tallies[command].replies[r] ?? 0));
        }
      },
    });
    this.#registerHistogramSeries(registry, options.histogramName, options.histogramHelp);
  }

  record(command: CommandName, reply: Reply, seconds: number): void {
    const tally = this.#tallies[command];
    bump(tally.replies, reply === 'OK' ? 0 : reply === 'FAIL' ? 1 : 2);
    const bounds = this.#bounds;
    let bucket = 0;
    while (bucket < bounds.length && seconds > (bounds[bucket] as number)) bucket++;
    bump(tally.buckets, bucket);
    tally.sum += seconds;
    tally.count++;
  }

  /**
   * The `_bucket`, `_sum` and `_count` series of a Prometheus histogram, as three counters.
   * prom-client's Histogram can only be fed one observation at a time, so the tallied bucket
   * counts go out through counters, the one public way to publish totals at scrape time; the
   * samples are those of a histogram, and `histogram_quantile()` reads them as one.
   */
  #registerHistogramSeries(registry: Registry, name: string, help: string): void {
    const bounds = [...this.#bounds.map(String), '+Inf'];
    const tallies = this.#tallies;
    const registers = [registry];
    new Counter({
      name: `${name}_bucket`,
      help: `${help} Commands at or under each upper bound le, cumulative.`,
      labelNames: ['le', 'command'],
      registers,
      collect() {
        this.reset();
        for (const command of COMMANDS) {
          let cumulative = 0;
          bounds.forEach((le, i) => {
            cumulative += tallies[command].buckets[i] ?? 0;
            this.inc({ le, command }, cumulative);
          });
        }
      },
    });
    const counterOf = (suffix: string, what: string, read: (tally: Tally) => number): void => {
      new Counter({
        name: `${name}_${suffix}`,
        help: `${help} ${what}`,
        labelNames: ['command'],
        registers,
        collect() {
          this.reset();
          for (const command of COMMANDS) this.inc({ command }, read(tallies[command]));
        },
      });
    };
    counterOf('sum', 'Sum of the latencies.', (tally) => tally.sum);
    counterOf('count', 'Commands measured.', (tally) => tally.count);
  }
}
