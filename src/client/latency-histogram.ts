/**
 * Latencies in log-linear microsecond buckets (as HdrHistogram does, with 5 bits of precision):
 * recording is one array increment, memory is fixed whatever the request count, and every
 * percentile is within about 3% of the true value.
 */

/** Buckets per power of two: values below 2 * SUB_BUCKETS are exact. */
const SUB_BUCKETS = 32;
const SUB_BITS = 5;
/** Up to 2^31 µs (about 36 minutes); longer latencies land in the last bucket. */
const BUCKETS = 2 * SUB_BUCKETS + (31 - SUB_BITS - 1) * SUB_BUCKETS;

export interface LatencySummary {
  readonly count: number;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
}

export class LatencyHistogram {
  #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sumUs = 0;
  #maxUs = 0;

  get count(): number {
    return this.#count;
  }

  record(latencyUs: number): void {
    const us = Math.max(0, Math.round(latencyUs));
    const bucket = bucketOf(us);
    this.#counts[bucket] = (this.#counts[bucket] ?? 0) + 1;
    this.#count++;
    this.#sumUs += us;
    if (us > this.#maxUs) this.#maxUs = us;
  }

  /** The latency at or below which `percent` of the recorded ones fall, in µs (a bucket's middle). */
  percentile(percent: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.ceil((percent / 100) * this.#count);
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.#counts[bucket] ?? 0;
      if (seen >= rank) return Math.min(middleOf(bucket), this.#maxUs);
    }
    return this.#maxUs;
  }

  summary(): LatencySummary {
    return {
      count: this.#count,
      meanUs: this.#count === 0 ? 0 : this.#sumUs / this.#count,
      p50Us: this.percentile(50),
      p99Us: this.percentile(99),
      p999Us: this.percentile(99.9),
      maxUs: this.#maxUs,
    };
  }
}

function bucketOf(us: number): number {
  if (us < 2 * SUB_BUCKETS) return us;
  const clamped = Math.min(us, 2 ** 31 - 1);
  // shift so that the value keeps SUB_BITS + 1 significant bits: clamped >> shift is in [32, 64)
  const shift = 31 - Math.clz32(clamped) - SUB_BITS;
  return 2 * SUB_BUCKETS + (shift - 1) * SUB_BUCKETS + ((clamped >>> shift) - SUB_BUCKETS);
}

function middleOf(bucket: number): number {
  if (bucket < 2 * SUB_BUCKETS) return bucket;
  const shift = Math.floor((bucket - 2 * SUB_BUCKETS) / SUB_BUCKETS) + 1;
  const mantissa = ((bucket - 2 * SUB_BUCKETS) % SUB_BUCKETS) + SUB_BUCKETS;
  return mantissa * 2 ** shift + 2 ** (shift - 1);
}
