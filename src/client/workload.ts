/**
 * The request mix of a benchmark, over a dataset that was indexed whole beforehand. Reads are
 * QUERY of a random package. Writes are chosen so that they succeed, as most writes to a real
 * index do: half re-INDEX a random package with its own dependencies (which are never removed),
 * half REMOVE and then re-INDEX a package nobody depends on (a leaf). A QUERY may see a leaf in
 * between and get FAIL; no request should get ERROR.
 */
import { commandFor, fanIn, type Dataset, type Package } from '../dataset/dataset.js';
import type { Random } from '../dataset/random.js';
import { encodeCommand } from '../protocol/encode.js';

export class Workload {
  readonly #packages: Dataset;
  readonly #leaves: readonly Package[];
  readonly #writeChance: number;

  /** @param writePercent share of requests that are INDEX or REMOVE, in percent */
  constructor(packages: Dataset, writePercent: number) {
    if (packages.length === 0) throw new RangeError('a workload needs at least one package');
    const counts = fanIn(packages);
    this.#packages = packages;
    this.#leaves = packages.filter((pkg) => (counts.get(pkg.name) ?? 0) === 0);
    // a write decision yields 1.5 requests on average (INDEX, or REMOVE and INDEX), so decide
    // with the chance w for which 1.5w / (1 + 0.5w) is the asked share
    const share = writePercent / 100;
    this.#writeChance = share / (1.5 - 0.5 * share);
  }

  /** A cursor over the mix for one connection, with its own random stream. */
  stream(random: Random): WorkloadStream {
    return new WorkloadStream(this.#packages, this.#leaves, this.#writeChance, random);
  }
}

export class WorkloadStream {
  readonly #packages: Dataset;
  readonly #leaves: readonly Package[];
  readonly #writeChance: number;
  readonly #random: Random;
  /** The INDEX that must follow the REMOVE just handed out. */
  #reindex: Package | undefined;

  constructor(packages: Dataset, leaves: readonly Package[], writeChance: number, random: Random) {
    this.#packages = packages;
    this.#leaves = leaves;
    this.#writeChance = writeChance;
    this.#random = random;
  }

  /** The next request line, with its line feed. */
  next(): string {
    const pending = this.#reindex;
    if (pending !== undefined) {
      this.#reindex = undefined;
      return encodeCommand(commandFor('INDEX', pending));
    }
    const random = this.#random;
    if (!random.chance(this.#writeChance)) return encodeCommand(commandFor('QUERY', random.pick(this.#packages)));
    if (random.chance(0.5)) return encodeCommand(commandFor('INDEX', random.pick(this.#packages)));
    const leaf = random.pick(this.#leaves);
    this.#reindex = leaf;
    return encodeCommand(commandFor('REMOVE', leaf));
  }
}
