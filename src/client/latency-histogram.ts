/**
 * Request latencies in Node's own HdrHistogram (`perf_hooks.createHistogram`): recording is one
 * call, memory is fixed whatever the request count, and percentiles keep 3 significant figures.
 * This file only fixes the unit (whole nanoseconds in, microseconds out) and the summary that
 * `bench` and the benchmark scripts print.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface LatencySummary {
  readonly count: number;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
}

/** An hour, in ns: a longer latency is recorded as this (the histogram's range must be bounded). */
const HIGHEST_NS = 3_600_000_000_000;

export function createLatencyHistogram(): RecordableHistogram {
  return createHistogram({ lowest: 1, highest: HIGHEST_NS, figures: 3 });
}

/** Records a latency measured with `performance.now()`, in ms. */
export function recordLatency(histogram: RecordableHistogram, latencyMs: number): void {
  // the histogram takes integers from 1 up to its highest value, and throws on anything else
  histogram.record(Math.min(HIGHEST_NS, Math.max(1, Math.round(latencyMs * 1e6))));
}

/** Count, mean and percentiles in µs; all 0 when nothing was recorded. */
export function summarizeLatency(histogram: RecordableHistogram): LatencySummary {
  if (histogram.count === 0) return { count: 0, meanUs: 0, p50Us: 0, p99Us: 0, p999Us: 0, maxUs: 0 };
  return {
    count: histogram.count,
    meanUs: histogram.mean / 1000,
    p50Us: histogram.percentile(50) / 1000,
    p99Us: histogram.percentile(99) / 1000,
    p999Us: histogram.percentile(99.9) / 1000,
    maxUs: histogram.max / 1000,
  };
}
