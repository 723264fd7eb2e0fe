/**
 * A one-line progress bar on a terminal, redrawn at most ten times a second; nothing at all when
 * the stream is not a terminal, so that logs and pipes get only the summary.
 */
import type { WriteStream } from 'node:tty';

const WIDTH = 30;
const REDRAW_MS = 100;

export class ProgressBar {
  readonly #label: string;
  readonly #total: number;
  readonly #stream: NodeJS.WriteStream | WriteStream;
  readonly #started = performance.now();
  #drawnAt = 0;
  #drawn = false;

  constructor(label: string, total: number, stream: NodeJS.WriteStream) {
    this.#label = label;
    this.#total = total;
    this.#stream = stream;
  }

  update(done: number): void {
    if (this.#stream.isTTY !== true) return;
    const now = performance.now();
    if (now - this.#drawnAt < REDRAW_MS && done < this.#total) return;
    this.#drawnAt = now;
    const share = this.#total === 0 ? 1 : done / this.#total;
    const filled = Math.round(share * WIDTH);
    const rate = Math.round(done / Math.max((now - this.#started) / 1000, 0.001));
    this.#stream.write(`\r${this.#label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${Math.floor(share * 100)}% ${done}/${this.#total} ${rate}/s`);
    this.#drawn = true;
  }

  /** Clears the bar, so the summary starts on a clean line. */
  done(): void {
    if (this.#drawn) this.#stream.write('\r\x1b[K');
    this.#drawn = false;
  }
}
