/**
 * The dependency index with a number (id) for every package, for a store that must reload a
 * million packages with ten million dependencies in seconds. Dependency lists are ids kept in one
 * Int32Array pool and reverse edges are a count per id, so loading a package allocates nothing
 * per dependency and hashes no dependency name, and a stored row can name its dependencies by id.
 * Same rules and public reads as PackageGraph; commands still cost O(their dependencies). Listing
 * a package's dependents scans every edge: that is for operators. Pure and synchronous.
 */

export type GraphOutcome = 'ok' | 'fail';

const NO_DEPENDENTS: ReadonlySet<string> = new Set();
const NONE: readonly number[] = Object.freeze([]);

export class NumberedGraph {
  #ids = new Map<string, number>();
  /** By id; id 0 is never used. */
  #names: Array<string | undefined> = [undefined];
  /** By id: where its dependency ids start in #pool, how many there are, how many depend on it. */
  #starts = new Int32Array(1024);
  #lengths = new Int32Array(1024);
  #dependentCounts = new Int32Array(1024);
  /** Every dependency list, one after the other; a replaced list stays behind until compaction. */
  #pool = new Int32Array(4096);
  #poolEnd = 0;
  /** Unused ids below #nextId, reused last-freed first. */
  #free: number[] = [];
  #nextId = 1;
  #edgeCount = 0;

  /** Indexed packages. */
  get size(): number {
    return this.#ids.size;
  }

  /** Dependency edges between indexed packages. */
  get edgeCount(): number {
    return this.#edgeCount;
  }

  has(name: string): boolean {
    return this.#ids.has(name);
  }

  idOf(name: string): number | undefined {
    return this.#ids.get(name);
  }

  nameAt(id: number): string | undefined {
    return this.#names[id];
  }

  /** A copy of the dependency ids of the package at `id`. */
  dependencyIdsAt(id: number): number[] | undefined {
    if (this.#names[id] === undefined) return undefined;
    const start = this.#starts[id] as number;
    const ids = new Array<number>(this.#lengths[id] as number);
    for (let k = 0; k < ids.length; k++) ids[k] = this.#pool[start + k] as number;
    return ids;
  }

  /** The package's dependencies, or undefined when it is not indexed. */
  dependenciesOf(name: string): readonly string[] | undefined {
    const id = this.#ids.get(name);
    if (id === undefined) return undefined;
    return (this.dependencyIdsAt(id) ?? NONE).map((dep) => this.#names[dep] ?? '');
  }

  /** Indexed packages that list `name` as a dependency: O(edges), for the read API only. */
  dependentsOf(name: string): ReadonlySet<string> {
    const target = this.#ids.get(name);
    if (target === undefined || this.#dependentCounts[target] === 0) return NO_DEPENDENTS;
    const dependents = new Set<string>();
    for (let id = 1; id < this.#nextId; id++) {
      if (this.#lists(id, target)) dependents.add(this.#names[id] as string);
    }
    return dependents;
  }

  names(): IterableIterator<string> {
    return this.#ids.keys();
  }

  /** [P-INDEX-1] adds the package or replaces its dependency list, if every dependency is indexed. */
  index(name: string, deps: readonly string[]): GraphOutcome {
    const dependencyIds = new Array<number>(deps.length);
    for (let i = 0; i < deps.length; i++) {
      const id = this.#ids.get(deps[i] as string);
      if (id === undefined) return 'fail';
      dependencyIds[i] = id;
    }
    this.put(this.#ids.get(name) ?? this.#free.at(-1) ?? this.#nextId, name, dependencyIds);
    return 'ok';
  }

  /** [P-REMOVE-1] removes the package unless another indexed package depends on it. */
  remove(name: string): GraphOutcome {
    const id = this.#ids.get(name);
    if (id === undefined) return 'ok';
    if ((this.#dependentCounts[id] as number) > 0) return 'fail';
    this.put(id, null);
    return 'ok';
  }

  /**
   * Puts `id` into the given state (a package, or null for unused) without checking that its
   * dependencies exist or that the name is not also at another id: for loading a store and for
   * undoing changes a store failed to commit. The dependency ids are `deps[from, from + count)`
   * and must be distinct.
   */
  put(id: number, name: string | null, deps: ArrayLike<number> = NONE, from = 0, count = deps.length): void {
    const previous = this.#names[id];
    if (previous !== undefined) this.#clear(id, previous);
    else if (id < this.#nextId) this.#take(id);
    else this.#extendTo(id);
    if (name === null) {
      if (previous !== undefined) this.#free.push(id);
      return;
    }
    this.#names[id] = name;
    this.#ids.set(name, id);
    this.#reservePool(count);
    const pool = this.#pool;
    const start = this.#poolEnd;
    let counts = this.#dependentCounts;
    for (let k = 0; k < count; k++) {
      const dep = deps[from + k] as number;
      pool[start + k] = dep;
      if (dep >= counts.length) {
        this.#growIds(dep);
        counts = this.#dependentCounts;
      }
      (counts[dep] as number)++;
    }
    this.#starts[id] = start;
    this.#lengths[id] = count;
    this.#poolEnd += count;
    this.#edgeCount += count;
  }

  /** Makes room for ids up to `maxId` and `edges` dependency ids, so that a big load need not grow. */
  reserve(maxId: number, edges: number): void {
    if (maxId >= this.#starts.length) this.#growIds(maxId);
    if (this.#poolEnd + edges > this.#pool.length) this.#pool = grown(this.#pool, this.#poolEnd + edges);
  }

  /** After loading with `put`: ids that packages depend on but that hold no package. */
  *missingDependencies(): IterableIterator<{ readonly name: string; readonly dependencyId: number }> {
    const counts = this.#dependentCounts;
    for (let target = 1; target < counts.length; target++) {
      if ((counts[target] as number) === 0 || this.#names[target] !== undefined) continue;
      for (let id = 1; id < this.#nextId; id++) {
        if (this.#lists(id, target)) {
          yield { name: this.#names[id] as string, dependencyId: target };
          break;
        }
      }
    }
  }

  /** True when the package at `id` lists `target`. */
  #lists(id: number, target: number): boolean {
    if (this.#names[id] === undefined) return false;
    const start = this.#starts[id] as number;
    const end = start + (this.#lengths[id] as number);
    for (let k = start; k < end; k++) if (this.#pool[k] === target) return true;
    return false;
  }

  #clear(id: number, name: string): void {
    const start = this.#starts[id] as number;
    const length = this.#lengths[id] as number;
    for (let k = start; k < start + length; k++) (this.#dependentCounts[this.#pool[k] as number] as number)--;
    this.#edgeCount -= length;
    this.#lengths[id] = 0;
    if (this.#ids.get(name) === id) this.#ids.delete(name);
    this.#names[id] = undefined;
  }

  /** Takes an unused id below #nextId off the free list (the last one, except when undoing). */
  #take(id: number): void {
    const free = this.#free;
    if (free.at(-1) === id) {
      free.pop();
      return;
    }
    const at = free.lastIndexOf(id);
    if (at >= 0) free.splice(at, 1);
  }

  #extendTo(id: number): void {
    if (id >= this.#starts.length) this.#growIds(id);
    // filling the gap keeps #names dense: V8 turns an array written far past its end into a slow dictionary
    for (let unused = this.#nextId; unused < id; unused++) {
      this.#free.push(unused);
      this.#names[unused] = undefined;
    }
    this.#names[id] = undefined;
    this.#nextId = id + 1;
  }

  #growIds(atLeast: number): void {
    let capacity = this.#starts.length * 2;
    while (capacity <= atLeast) capacity *= 2;
    this.#starts = grown(this.#starts, capacity);
    this.#lengths = grown(this.#lengths, capacity);
    this.#dependentCounts = grown(this.#dependentCounts, capacity);
  }

  /** Makes room for `count` more ids at the end of the pool: grows it, or drops replaced lists. */
  #reservePool(count: number): void {
    const needed = this.#poolEnd + count;
    if (needed <= this.#pool.length) return;
    const live = this.#edgeCount;
    if (this.#poolEnd - live < this.#poolEnd / 2) {
      this.#pool = grown(this.#pool, Math.max(2 * this.#pool.length, needed));
      return;
    }
    const pool = new Int32Array(Math.max(this.#pool.length, 2 * (live + count)));
    let end = 0;
    for (let id = 1; id < this.#nextId; id++) {
      if (this.#names[id] === undefined) continue;
      const start = this.#starts[id] as number;
      const length = this.#lengths[id] as number;
      for (let k = 0; k < length; k++) pool[end + k] = this.#pool[start + k] as number;
      this.#starts[id] = end;
      end += length;
    }
    this.#pool = pool;
    this.#poolEnd = end;
  }
}

function grown(array: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const copy = new Int32Array(capacity);
  copy.set(array);
  return copy;
}
