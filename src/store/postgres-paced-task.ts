/**
 * The change feed's way of running its reads and notifications: on request, never two at once,
 * and at most once per interval, so that a stream of requests costs a bounded number of
 * statements a second.
 */
/** An async task run on request, never twice at once, and started at most once every `everyMs`. */
export class PacedTask {
  #everyMs: number;
  #run: () => Promise<void>;
  #running: Promise<void> | undefined;
  #again = false;
  #startedAt = -Infinity;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(everyMs: number, run: () => Promise<void>) {
    this.#everyMs = everyMs;
    this.#run = run;
  }

  request(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    const wait = this.#startedAt + this.#everyMs - performance.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.request();
      }, wait);
      this.#timer.unref();
      return;
    }
    this.#startedAt = performance.now();
    this.#running = this.#run().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.request();
      }
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
