/**
 * Failed accepts, logged once per burst with their cause, and once more when the burst ends with
 * how many failures it held. Node reports few of them: when the process runs out of file
 * descriptors (EMFILE), libuv accepts the connection on a descriptor it keeps in reserve and closes
 * it at once, so that the listen backlog drains, and nothing reaches JavaScript: the client just
 * sees its connection closed. So while the listener runs, a check opens and closes the null device
 * once a second; EMFILE or ENFILE there means new connections are being closed unanswered.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { Logger } from 'pino';
import type { CounterLike } from '../metrics.js';

export interface AcceptWatchOptions {
  readonly logger: Logger;
  /** Counts each failure: an accept Node reported, or a check that found no descriptor free. */
  readonly failures: CounterLike;
  /** @default 1000 */
  readonly checkIntervalMs?: number;
}

const OUT_OF_DESCRIPTORS: Readonly<Record<string, string>> = {
  EMFILE: 'the process has as many files and sockets open as its limit allows (ulimit -n)',
  ENFILE: 'the system has as many files open as its limit allows (fs.file-max)',
};

interface Burst {
  readonly startedAt: number;
  failures: number;
}

export class AcceptWatch {
  #options: AcceptWatchOptions;
  #timer: NodeJS.Timeout | undefined;
  #burst: Burst | undefined;
  #failedSinceCheck = false;

  constructor(options: AcceptWatchOptions) {
    this.#options = options;
  }

  start(): void {
    this.#timer = setInterval(() => this.#check(), this.#options.checkIntervalMs ?? 1_000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#endBurst();
  }

  /** An accept that failed: the listener's 'error' after it listens. */
  failed(error: unknown): void {
    this.#options.failures.inc();
    this.#failedSinceCheck = true;
    if (this.#burst !== undefined) {
      this.#burst.failures++;
      return;
    }
    this.#burst = { startedAt: Date.now(), failures: 1 };
    const code = codeOf(error);
    const hint = OUT_OF_DESCRIPTORS[code] ?? 'the operating system refused to hand over a new connection';
    this.#options.logger.error(
      { err: error, code, hint },
      'accepting connections is failing: new connections are closed unanswered; logged once until it works again',
    );
  }

  #check(): void {
    try {
      fs.closeSync(fs.openSync(os.devNull, 'r'));
    } catch (error) {
      if (Object.hasOwn(OUT_OF_DESCRIPTORS, codeOf(error))) {
        this.failed(error);
        this.#failedSinceCheck = false;
        return;
      }
    }
    if (!this.#failedSinceCheck) this.#endBurst();
    this.#failedSinceCheck = false;
  }

  #endBurst(): void {
    const burst = this.#burst;
    if (burst === undefined) return;
    this.#burst = undefined;
    this.#options.logger.warn({ failures: burst.failures, durationMs: Date.now() - burst.startedAt }, 'accepting connections works again');
  }
}

function codeOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : 'unknown';
}
