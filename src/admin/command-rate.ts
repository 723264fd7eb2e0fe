/**
 * Commands per second over the last few seconds, from a running total sampled once a second, so
 * that `/v1/stats` needs neither a scrape history nor work on the hot path.
 */

const WINDOW_SAMPLES = 11;

export class CommandRate {
  #read: () => number;
  #samples: Array<{ atMs: number; total: number }> = [];
  #timer: NodeJS.Timeout;

  constructor(readTotal: () => number, sampleEveryMs = 1_000) {
    this.#read = readTotal;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), sampleEveryMs);
    this.#timer.unref();
  }

  perSecond(): number {
    const oldest = this.#samples[0];
    if (oldest === undefined) return 0;
    const elapsedMs = Date.now() - oldest.atMs;
    return elapsedMs <= 0 ? 0 : ((this.#read() - oldest.total) * 1000) / elapsedMs;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #sample(): void {
    this.#samples.push({ atMs: Date.now(), total: this.#read() });
    if (this.#samples.length > WINDOW_SAMPLES) this.#samples.shift();
  }
}
