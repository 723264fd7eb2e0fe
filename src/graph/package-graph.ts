/**
 * The dependency index itself, sized for a million packages with ten million dependencies that a
 * store reloads in seconds. Every package has a number (id); forward edges are its dependency ids,
 * kept one list after another in a shared Int32Array pool; the reverse edge is a count of the
 * packages that depend on it, which is all REMOVE needs. So INDEX and REMOVE cost O(the package's
 * dependencies) and QUERY O(1) (plus, now and then, a pool compaction that earlier replacements
 * paid for), loading a package hashes no dependency name, and a stored row can name its
 * dependencies by id. The read side's copy also keeps the dependents of each package as lists
 * (`trackDependents`), so that dependents and reverse closures cost O(answer); without them,
 * listing who depends on a package walks every live list. Pure and synchronous; the stores
 * decide what is durable, this decides what is true.
 */

import { DependentLists } from './dependent-lists.js';
import { NameIndex } from './name-index.js';

export type GraphOutcome = 'ok' | 'fail';

const NO_DEPENDENTS: ReadonlySet<string> = new Set();
const NONE: readonly number[] = Object.freeze([]);
/** Pool slots below which replaced lists are never worth compacting away. */
const MIN_POOL_SLOTS = 4096;
const MIN_ID_SLOTS = 1024;

/** The graph as plain data, for copying it to another thread. */
export interface GraphState {
  readonly names: string;
  readonly starts: Int32Array<ArrayBuffer>;
  readonly lengths: Int32Array<ArrayBuffer>;
  readonly pool: Int32Array<ArrayBuffer>;
}

export interface PackageGraphOptions {
  /**
   * Keep who depends on each package as lists (4 bytes per edge more), so that dependents cost
   * O(answer); without them only their counts are kept, which is all the command path needs.
   * @default false
   */
  readonly trackDependents?: boolean;
}

export class PackageGraph {
  #ids = new NameIndex((id) => this.#names[id]);
  /** By id; id 0 is never used. */
  #names: Array<string | undefined> = [undefined];
  /** By id: where its dependency ids start in #pool, how many there are (0 when unused), how many depend on it. */
  #starts = new Int32Array(MIN_ID_SLOTS);
  #lengths = new Int32Array(MIN_ID_SLOTS);
  #dependentCounts = new Int32Array(MIN_ID_SLOTS);
  /** Every dependency list, one after the other; a replaced list stays behind until compaction. */
  #pool = new Int32Array(MIN_POOL_SLOTS);
  #poolEnd = 0;
  /** Unused ids below #nextId, reused last-freed first. */
  #free: number[] = [];
  #nextId = 1;
  #edgeCount = 0;
  #dependents: DependentLists | undefined;

  constructor(options: PackageGraphOptions = {}) {
    if (options.trackDependents === true) this.#dependents = new DependentLists();
  }

  /** Indexed packages. */
  get size(): number {
    return this.#ids.size;
  }

  /** Dependency edges between indexed packages. */
  get edgeCount(): number {
    return this.#edgeCount;
  }

  /** Int32 slots written with dependency lists since the last compaction, live or replaced. */
  get poolUsedSlots(): number {
    return this.#poolEnd;
  }

  /** Int32 slots allocated for dependency lists (live, replaced, spare): 4 bytes each. */
  get poolCapacity(): number {
    return this.#pool.length;
  }

  has(name: string): boolean {
    return this.#ids.get(name) !== undefined;
  }

  idOf(name: string): number | undefined {
    return this.#ids.get(name);
  }

  nameAt(id: number): string | undefined {
    return this.#names[id];
  }

  /** One past the highest id in use: ids are 1 to idLimit - 1. */
  get idLimit(): number {
    return this.#nextId;
  }

  /** Calls `visit` with each dependency id of the package at `id`, in its listed order. */
  forEachDependencyId(id: number, visit: (dependency: number) => void): void {
    if (this.#names[id] === undefined) return;
    const start = this.#starts[id] as number;
    const end = start + (this.#lengths[id] as number);
    for (let k = start; k < end; k++) visit(this.#pool[k] as number);
  }

  dependencyCountAt(id: number): number {
    return this.#names[id] === undefined ? 0 : (this.#lengths[id] as number);
  }

  dependentCountAt(id: number): number {
    return id < this.#dependentCounts.length ? (this.#dependentCounts[id] as number) : 0;
  }

  /** Calls `visit` with each id that depends on `id`, in no order; needs `trackDependents`. */
  forEachDependentId(id: number, visit: (dependent: number) => void): void {
    if (this.#dependents === undefined) throw new Error('this graph does not track dependents');
    this.#dependents.forEach(id, visit);
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

  /** How many indexed packages list `name` as a dependency: O(1). */
  dependentCountOf(name: string): number {
    const id = this.#ids.get(name);
    return id === undefined ? 0 : (this.#dependentCounts[id] as number);
  }

  /**
   * Indexed packages that list `name` as a dependency. One pass over the live lists, stopping once
   * the count is reached: O(packages + edges), for the read API only.
   */
  dependentsOf(name: string): ReadonlySet<string> {
    const target = this.#ids.get(name);
    let remaining = target === undefined ? 0 : (this.#dependentCounts[target] as number);
    if (remaining === 0) return NO_DEPENDENTS;
    if (this.#dependents !== undefined) return new Set(this.#dependents.listOf(target as number).map((id) => this.#names[id] as string));
    const dependents = new Set<string>();
    const pool = this.#pool;
    const starts = this.#starts;
    const lengths = this.#lengths;
    for (let id = 1; id < this.#nextId && remaining > 0; id++) {
      const start = starts[id] as number;
      const end = start + (lengths[id] as number);
      for (let k = start; k < end; k++) {
        if (pool[k] !== target) continue;
        dependents.add(this.#names[id] as string);
        remaining--;
        break;
      }
    }
    return dependents;
  }

  /**
   * A copy of the whole graph that `put` can rebuild, id for id: the names by id ('' where unused)
   * joined by line feeds, which no name contains [P-NAME-1], and each id's slice of the pool.
   */
  exportState(): GraphState {
    const names = new Array<string>(this.#nextId);
    for (let id = 0; id < this.#nextId; id++) names[id] = this.#names[id] ?? '';
    return {
      names: names.join('\n'),
      starts: this.#starts.slice(0, this.#nextId),
      lengths: this.#lengths.slice(0, this.#nextId),
      pool: this.#pool.slice(0, this.#poolEnd),
    };
  }

  /** Rebuilds what `exportState` copied, into an empty graph. */
  importState(state: GraphState): string[] {
    const names = state.names.split('\n');
    let edges = 0;
    for (let id = 1; id < names.length; id++) edges += names[id] === '' ? 0 : (state.lengths[id] as number);
    this.reserve(names.length - 1, edges);
    // dependents are listed in one pass at the end, not one append at a time
    const tracking = this.#dependents !== undefined;
    this.#dependents = undefined;
    const kept: string[] = [];
    for (let id = 1; id < names.length; id++) {
      const name = names[id] as string;
      if (name === '') continue;
      this.put(id, name, state.pool, state.starts[id] as number, state.lengths[id] as number);
      kept.push(name);
    }
    if (tracking) {
      this.#dependents = DependentLists.fromEdges(this.#dependentCounts, (add) => {
        for (let id = 1; id < this.#nextId; id++) this.forEachDependencyId(id, (dependency) => add(dependency, id));
      });
    }
    return kept;
  }

  *names(): IterableIterator<string> {
    const names = this.#names;
    for (let id = 1; id < this.#nextId; id++) {
      const name = names[id];
      if (name !== undefined) yield name;
    }
  }

  /**
   * True when the package at `id` lists exactly `deps`, in that order: a re-index that would change
   * nothing. Compares in place, allocating nothing.
   */
  listsExactly(id: number, deps: readonly string[]): boolean {
    if (this.#names[id] === undefined || this.#lengths[id] !== deps.length) return false;
    const start = this.#starts[id] as number;
    for (let k = 0; k < deps.length; k++) {
      if (this.#pool[start + k] !== this.#ids.get(deps[k] as string)) return false;
    }
    return true;
  }

  /**
   * True when the package at `id` lists exactly the dependency `ids`, in that order, or when `id`
   * holds no package and `ids` is undefined. Allocates nothing.
   */
  listsIds(id: number, ids: readonly number[] | undefined): boolean {
    if (this.#names[id] === undefined || ids === undefined) return this.#names[id] === undefined && ids === undefined;
    if (this.#lengths[id] !== ids.length) return false;
    const start = this.#starts[id] as number;
    for (let k = 0; k < ids.length; k++) if (this.#pool[start + k] !== ids[k]) return false;
    return true;
  }

  /** [P-INDEX-1] adds the package or replaces its dependency list, if every dependency is indexed. */
  index(name: string, deps: readonly string[]): GraphOutcome {
    const existing = this.#ids.get(name);
    // the same list again (half the writes of a busy index): no name-index churn, no pool append
    if (existing !== undefined && this.listsExactly(existing, deps)) return 'ok';
    const dependencyIds = new Array<number>(deps.length);
    for (let i = 0; i < deps.length; i++) {
      const id = this.#ids.get(deps[i] as string);
      if (id === undefined) return 'fail';
      dependencyIds[i] = id;
    }
    // the name is kept as given, not copied: the byte parser decodes each name into a string of
    // its own (never a slice of its request line), so keeping it holds no line alive, and later
    // lookups with the parser's recent string for it compare as the same string
    if (existing !== undefined) this.put(existing, this.#names[existing] as string, dependencyIds);
    else this.put(this.#free.at(-1) ?? this.#nextId, name, dependencyIds);
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
    // a package that only gets a new list keeps its entry in the name index
    const sameName = previous === name;
    if (previous !== undefined) this.#clear(id, previous, sameName);
    else if (id < this.#nextId) this.#take(id);
    else this.#extendTo(id);
    if (name === null) {
      if (previous !== undefined) this.#free.push(id);
    } else {
      this.#names[id] = name;
      if (!sameName) this.#ids.set(name, id);
      this.#append(id, deps, from, count);
    }
    if (previous !== undefined) this.#compactIfWasteful();
  }

  /** Makes room for ids up to `maxId` and `edges` dependency ids, so that a big load need not grow. */
  reserve(maxId: number, edges: number): void {
    this.#ids.reserve(maxId);
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
    const start = this.#starts[id] as number;
    const end = start + (this.#lengths[id] as number);
    for (let k = start; k < end; k++) if (this.#pool[k] === target) return true;
    return false;
  }

  /** Writes the dependency list of `id` at the end of the pool and counts its reverse edges. */
  #append(id: number, deps: ArrayLike<number>, from: number, count: number): void {
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
      this.#dependents?.add(dep, id);
    }
    this.#starts[id] = start;
    this.#lengths[id] = count;
    this.#poolEnd += count;
    this.#edgeCount += count;
  }

  #clear(id: number, name: string, keepName: boolean): void {
    const start = this.#starts[id] as number;
    const length = this.#lengths[id] as number;
    for (let k = start; k < start + length; k++) {
      const dep = this.#pool[k] as number;
      (this.#dependentCounts[dep] as number)--;
      this.#dependents?.remove(dep, id);
    }
    this.#edgeCount -= length;
    this.#lengths[id] = 0;
    if (!keepName) this.#ids.delete(name, id);
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

  /** Makes room for `count` more ids at the end of the pool: grows it while it is mostly live, else compacts it. */
  #reservePool(count: number): void {
    if (this.#poolEnd + count <= this.#pool.length) return;
    const live = this.#edgeCount;
    const waste = this.#poolEnd - live;
    if (waste === 0 || waste < live) this.#pool = grown(this.#pool, Math.max(2 * this.#pool.length, this.#poolEnd + count));
    else this.#compact(count);
  }

  /**
   * Compacts once replaced lists outweigh the live ones and the ids a compaction walks. So the
   * pool stays within twice what it must hold plus one slot per id (the id arrays take three),
   * and a compaction, O(ids + edges), is paid for by at least as many slots replaced since the last.
   */
  #compactIfWasteful(): void {
    const waste = this.#poolEnd - this.#edgeCount;
    if (waste > MIN_POOL_SLOTS && waste > this.#edgeCount + this.#nextId) this.#compact(0);
  }

  /** Copies the live lists into a new pool with room for as many again plus `extra`: it shrinks as well as grows. */
  #compact(extra: number): void {
    const pool = new Int32Array(Math.max(MIN_POOL_SLOTS, 2 * (this.#edgeCount + extra)));
    const old = this.#pool;
    const starts = this.#starts;
    const lengths = this.#lengths;
    let end = 0;
    for (let id = 1; id < this.#nextId; id++) {
      const start = starts[id] as number;
      const length = lengths[id] as number;
      for (let k = 0; k < length; k++) pool[end + k] = old[start + k] as number;
      starts[id] = end;
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
