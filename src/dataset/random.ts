/**
 * A small seeded pseudo-random generator (mulberry32), so that datasets, broken messages and
 * load mixes are the same for the same seed on every machine. Not for anything secret.
 */

export class Random {
  #state: number;

  /** @param seed any number; only its low 32 bits matter */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** A whole number in [0, bound). */
  below(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  /** True with probability `chance` (0 to 1). */
  chance(chance: number): boolean {
    return this.next() < chance;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.below(items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  /** Shuffles an array or typed array in place (Fisher–Yates) and returns it. */
  shuffle<A extends { length: number; [index: number]: unknown }>(items: A): A {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const a = items[i] as A[number];
      items[i] = items[j] as A[number];
      items[j] = a;
    }
    return items;
  }

  /** A new generator whose sequence depends on this one's seed and `stream`, for per-client streams. */
  fork(stream: number): Random {
    return new Random(Math.imul(this.#state ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(stream + 1, 0xc2b2ae35));
  }
}
