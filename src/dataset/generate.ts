/**
 * Generates a dependency graph shaped like a real package ecosystem, from a seed, at any size.
 *
 * - Dependencies per package follow a heavy-tailed (Lomax, shape 1.5) law scaled to the asked
 *   mean: most packages have 0 to 3, a few have hundreds. The draws are stratified (each package
 *   gets its own quantile, in shuffled order), so the shape does not depend on luck: at a given
 *   size and mean, every seed has about the same number of packages with at least k dependencies.
 * - Which packages are depended on follows preferential attachment: a dependency is usually
 *   the target of a random earlier dependency edge, so popular packages become more popular and
 *   fan-in follows a power law, as in npm or Homebrew; most packages have no dependents.
 * - Package i depends only on packages before it, so the list is a topological order.
 * Memory is a few typed arrays besides the names, so a million packages take a few seconds.
 */
import type { Package } from './dataset.js';
import { Random } from './random.js';

export interface GenerateOptions {
  /** Packages to generate. */
  readonly packages: number;
  /** Mean dependencies per package. @default 3 */
  readonly meanDeps?: number;
  /** Most dependencies of one package. @default 1000 */
  readonly maxDeps?: number;
  /** @default 1 */
  readonly seed?: number;
}

/** Tail shape of the dependency-count law: below 2 the variance is infinite, as in real ecosystems. */
const SHAPE = 1.5;
/**
 * Share of dependencies drawn by popularity (from earlier edges) rather than uniformly among
 * earlier packages; the uniform rest is how a package gets its first dependent. Fan-in then
 * follows a power law of exponent about 1 + 1/0.9: at 5,000 packages the most used ones have
 * about 300 dependents, at a million about 25,000.
 */
const PREFERENTIAL_SHARE = 0.9;

export function generateDataset(options: GenerateOptions): Package[] {
  const { packages: count, meanDeps = 3, maxDeps = 1000, seed = 1 } = options;
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`packages: expected a whole number, got ${count}`);
  if (!Number.isSafeInteger(maxDeps) || maxDeps < 0 || maxDeps > 100_000) throw new RangeError(`maxDeps: expected 0 to 100000, got ${maxDeps}`);
  if (!(meanDeps >= 0) || meanDeps > maxDeps / 4) throw new RangeError(`meanDeps: expected 0 to maxDeps/4, got ${meanDeps}`);
  const random = new Random(seed);
  const names = generateNames(count, random);
  const quantiles = stratifiedQuantiles(count, random);
  const scale = scaleForMean(meanDeps, maxDeps);
  const pool = new EdgePool(Math.ceil(count * meanDeps * 1.1) + 16);
  const chosenBy = new Int32Array(count).fill(-1);
  const result: Package[] = new Array<Package>(count);
  for (let i = 0; i < count; i++) {
    const wanted = Math.min(dependencyCount(quantiles[i] ?? 0, scale, maxDeps), i);
    const deps = new Array<string>(wanted);
    for (let k = 0; k < wanted; k++) {
      const dep = pickDependency(i, random, pool, chosenBy);
      chosenBy[dep] = i;
      pool.push(dep);
      deps[k] = names[dep] as string;
    }
    result[i] = { name: names[i] as string, deps };
  }
  return result;
}

/** One uniform draw per package, spread evenly over (0, 1] and handed out in random order. */
function stratifiedQuantiles(count: number, random: Random): Float64Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  random.shuffle(order);
  const quantiles = new Float64Array(count);
  for (let i = 0; i < count; i++) quantiles[i] = 1 - ((order[i] ?? 0) + random.next()) / count;
  return quantiles;
}

/** Inverse of the Lomax law at upper quantile u in (0, 1], rounded down and capped. */
function dependencyCount(u: number, scale: number, maxDeps: number): number {
  if (scale === 0) return 0;
  return Math.min(Math.floor(scale * (u ** (-1 / SHAPE) - 1)), maxDeps);
}

/** The Lomax scale whose capped, rounded-down draws have the given mean (found by bisection). */
function scaleForMean(meanDeps: number, maxDeps: number): number {
  if (meanDeps === 0) return 0;
  // E[min(floor X, C)] = sum over k = 1..C of P(X >= k) = sum of (1 + k/scale)^-SHAPE
  const meanFor = (scale: number): number => {
    let sum = 0;
    for (let k = 1; k <= maxDeps; k++) sum += (1 + k / scale) ** -SHAPE;
    return sum;
  };
  let low = 0;
  let high = Math.max(1, meanDeps);
  while (meanFor(high) < meanDeps) high *= 2;
  for (let step = 0; step < 60; step++) {
    const middle = (low + high) / 2;
    if (meanFor(middle) < meanDeps) low = middle;
    else high = middle;
  }
  return high;
}

/** A dependency of package i not yet chosen for it: by popularity, else uniformly, until new. */
function pickDependency(i: number, random: Random, pool: EdgePool, chosenBy: Int32Array): number {
  if (pool.length > 0 && random.chance(PREFERENTIAL_SHARE)) {
    const popular = pool.at(random.below(pool.length));
    if (chosenBy[popular] !== i) return popular;
  }
  // a package has at most i dependencies, so some candidate is always free; only the few early
  // packages that take nearly all earlier ones need more than a couple of draws
  for (;;) {
    const candidate = random.below(i);
    if (chosenBy[candidate] !== i) return candidate;
  }
}

/** The target of every dependency edge so far: drawing from it favours popular packages. */
class EdgePool {
  #items: Int32Array;
  #length = 0;

  constructor(capacity: number) {
    this.#items = new Int32Array(capacity);
  }

  get length(): number {
    return this.#length;
  }

  at(index: number): number {
    return this.#items[index] ?? 0;
  }

  push(value: number): void {
    if (this.#length === this.#items.length) {
      const grown = new Int32Array(this.#items.length * 2);
      grown.set(this.#items);
      this.#items = grown;
    }
    this.#items[this.#length++] = value;
  }
}

const SYLLABLES = [
  'ba',
  'co',
  'da',
  'fen',
  'gi',
  'ho',
  'jul',
  'ka',
  'le',
  'mo',
  'nu',
  'pa',
  'qui',
  'ro',
  'sa',
  'te',
  'vi',
  'wo',
  'xa',
  'zet',
  'lin',
  'tor',
  'mar',
  'ex',
  'ux',
  'ly',
  'syn',
  'cur',
  'gel',
  'pix',
];
const PREFIXES = ['', '', '', '', 'lib', 'lib', 'py-', 'node-', 'perl-', 'go-', '@'];
const SUFFIXES = ['', '', '', '', '', '-core', '-utils', '-dev', '.js', '_ext', '+plus', ':extra', '~beta', '-cli'];

/**
 * Realistic-looking names such as `libkaro-17`, `@vize/mopa-318-core` or `py-tor-9.js`. Only the
 * package number has digits, so names are distinct by construction.
 */
function generateNames(count: number, random: Random): string[] {
  const names = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    let prefix = random.pick(PREFIXES);
    if (prefix === '@') prefix = `@${word(random)}/`;
    names[i] = `${prefix}${word(random)}-${i}${random.pick(SUFFIXES)}`;
  }
  return names;
}

function word(random: Random): string {
  const syllables = 1 + random.below(3);
  let text = '';
  for (let s = 0; s < syllables; s++) text += random.pick(SYLLABLES);
  return text;
}
