/**
 * One client of a check run: a connection with one request in flight, working through its share
 * of the packages phase by phase as the original challenge harness did, and slipping broken lines
 * in front of a seeded share of its requests. What it sees goes into the run's shared CheckState.
 */
import { makeBrokenLine } from '../dataset/broken-lines.js';
import { commandFor, type Dataset, type Package } from '../dataset/dataset.js';
import type { Random } from '../dataset/random.js';
import { encodeCommand } from '../protocol/encode.js';
import type { Command, Reply } from '../protocol/types.js';
import type { ProtocolClient } from './protocol-client.js';

/** A reply that broke the rules: what was sent, what the rules say, what came back. */
export interface Mismatch {
  readonly sent: string;
  readonly expected: string;
  readonly got: string;
}

/** Mismatches kept for the report; the run stops at this many. */
const MAX_MISMATCHES = 10;

/** What all clients of a run share: counters, the first mismatches, and whether to stop. */
export class CheckState {
  readonly stallTimeoutMs: number;
  readonly mismatches: Mismatch[] = [];
  requests = 0;
  brokenLines = 0;
  /** Packages finished in the current phase, and FAIL replies that brute force will retry. */
  done = 0;
  retries = 0;
  #failure: string | undefined;
  #lastProgressAt = performance.now();

  constructor(stallTimeoutMs: number) {
    this.stallTimeoutMs = stallTimeoutMs;
  }

  get failure(): string | undefined {
    return this.#failure;
  }

  get stopped(): boolean {
    return this.#failure !== undefined;
  }

  stop(reason: string): void {
    this.#failure ??= reason;
  }

  startPhase(): void {
    this.done = 0;
    this.retries = 0;
    this.#lastProgressAt = performance.now();
  }

  progress(): void {
    this.done++;
    this.#lastProgressAt = performance.now();
  }

  get stalledForMs(): number {
    return performance.now() - this.#lastProgressAt;
  }

  mismatch(found: Mismatch): void {
    if (this.mismatches.length < MAX_MISMATCHES) this.mismatches.push(found);
    if (this.mismatches.length >= MAX_MISMATCHES) this.stop(`stopped at ${MAX_MISMATCHES} wrong replies`);
  }
}

const MAX_BACKOFF_MS = 50;

/** A request line fit for a report: a package may have hundreds of dependencies. */
function shorten(line: string): string {
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

export class CheckClient {
  readonly #client: ProtocolClient;
  readonly #state: CheckState;
  readonly #random: Random;
  readonly #brokenChance: number;
  readonly #dataset: Dataset;

  /** @param dataset the whole dataset, for broken lines that mention a second package */
  constructor(client: ProtocolClient, state: CheckState, random: Random, brokenPercent: number, dataset: Dataset) {
    this.#client = client;
    this.#state = state;
    this.#random = random;
    this.#brokenChance = brokenPercent / 100;
    this.#dataset = dataset;
  }

  /** Sends `kind` for every package again and again until each got OK; FAIL means "not yet". */
  async bruteForce(kind: 'INDEX' | 'REMOVE', packages: readonly Package[]): Promise<void> {
    let pending = packages;
    let backoffMs = 0;
    while (pending.length > 0 && !this.#state.stopped) {
      const failed: Package[] = [];
      for (const pkg of pending) {
        const reply = await this.#exchange(commandFor(kind, pkg), 'OK or FAIL');
        if (this.#state.stopped) return;
        if (reply === 'OK') this.#state.progress();
        if (reply === 'FAIL') failed.push(pkg);
      }
      this.#state.retries += failed.length;
      if (failed.length < pending.length) {
        backoffMs = 0;
      } else {
        // nothing moved here; others may still be indexing what we wait for, so wait a little
        if (this.#state.stalledForMs > this.#state.stallTimeoutMs) this.#reportStall(kind, failed);
        backoffMs = Math.min(Math.max(1, backoffMs * 2), MAX_BACKOFF_MS);
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
      }
      pending = failed;
    }
  }

  /** Queries every package once, expecting `expected` for each. */
  async verify(packages: readonly Package[], expected: 'OK' | 'FAIL'): Promise<void> {
    for (const pkg of packages) {
      if (this.#state.stopped) return;
      await this.#exchange(commandFor('QUERY', pkg), expected);
      this.#state.progress();
    }
  }

  close(): void {
    this.#client.close();
  }

  async #exchange(command: Command, expected: 'OK' | 'FAIL' | 'OK or FAIL'): Promise<Reply> {
    if (this.#random.chance(this.#brokenChance)) await this.#sendBroken(command.name);
    const line = encodeCommand(command);
    const reply = await this.#client.request(line);
    this.#state.requests++;
    if (!(reply === expected || (expected === 'OK or FAIL' && reply !== 'ERROR'))) {
      this.#state.mismatch({ sent: shorten(line.trimEnd()), expected, got: reply });
    }
    return reply;
  }

  async #sendBroken(name: string): Promise<void> {
    // a request is about a package of the dataset, so the dataset is not empty here
    let other = this.#random.pick(this.#dataset).name;
    if (other === name) other = `${name}-other`;
    const broken = makeBrokenLine(name, other, this.#random);
    const reply = await this.#client.request(broken.line);
    this.#state.requests++;
    this.#state.brokenLines++;
    if (reply !== 'ERROR') this.#state.mismatch({ sent: `${JSON.stringify(broken.line.slice(0, -1))} (${broken.kind})`, expected: 'ERROR', got: reply });
  }

  #reportStall(kind: 'INDEX' | 'REMOVE', failed: readonly Package[]): void {
    const seconds = Math.round(this.#state.stallTimeoutMs / 1000);
    const example = failed[0];
    const line = example === undefined ? '' : encodeCommand(commandFor(kind, example)).trimEnd();
    this.#state.stop(`no ${kind} got OK for ${seconds} s; one client still gets FAIL for ${failed.length} packages, e.g. ${shorten(line)}`);
  }
}
