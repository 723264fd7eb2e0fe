/**
 * The questions people ask a dependency index, answered on a graph that tracks dependents: the
 * closure either way with shortest distances (breadth-first), an install order (Kahn's algorithm,
 * refused with a cycle), a shortest "depends on" chain, the cycles (Tarjan's strongly connected
 * components, iterative so that a deep chain cannot overflow the stack) and a summary. Every answer
 * is bounded by a limit and says when it was cut; orders are deterministic (distance, then name)
 * so that every store gives the same answer. Pure and synchronous.
 */
import type { PackageGraph } from './package-graph.js';

export type Direction = 'dependencies' | 'dependents';

export interface ClosureEntry {
  readonly name: string;
  /** Shortest distance from the package asked about: 1 is direct. */
  readonly depth: number;
}

export interface Closure {
  readonly name: string;
  /** Packages in the closure (within the depth asked), whether listed or not. */
  readonly total: number;
  readonly truncated: boolean;
  /** The first `limit` by distance, then name. */
  readonly packages: readonly ClosureEntry[];
}

export type InstallOrder =
  | { readonly name: string; readonly total: number; readonly truncated: boolean; readonly order: readonly string[] }
  /** `cycle[0]` depends on `cycle[1]`, …, and the last on `cycle[0]`. */
  | { readonly name: string; readonly cycle: readonly string[] };

export interface Cycles {
  readonly total: number;
  readonly truncated: boolean;
  /** Each cycle's members by name; the largest cycles first. */
  readonly cycles: readonly (readonly string[])[];
}

export interface NameCount {
  readonly name: string;
  readonly count: number;
}

export interface GraphSummary {
  /** The most depended-upon packages with their direct dependent counts. */
  readonly mostDependedUpon: readonly NameCount[];
  /** Packages nothing depends on: how many, and the first by name. */
  readonly roots: { readonly total: number; readonly names: readonly string[] };
  /** Packages with no dependencies: how many, and the first by name. */
  readonly leaves: { readonly total: number; readonly names: readonly string[] };
}

const NOT_SEEN = -1;

/**
 * A visited set and a queue kept between questions on the same graph: allocating them anew (a
 * byte and four bytes per package) for every question made the garbage collector's threads
 * compete with the protocol's for the CPU. The set is a generation stamp per id, so clearing it
 * costs nothing.
 */
class Scratch {
  stamps = new Int32Array(0);
  queue = new Int32Array(0);
  #generation = 0;

  /** Ready for a walk over `size` ids; returns the stamp that marks an id as seen in this walk. */
  begin(size: number): number {
    if (this.stamps.length < size) {
      const capacity = Math.max(size, this.stamps.length * 2);
      this.stamps = new Int32Array(capacity);
      this.queue = new Int32Array(capacity);
      this.#generation = 0;
    }
    if (this.#generation === 0x7fffffff) {
      this.stamps.fill(0);
      this.#generation = 0;
    }
    return ++this.#generation;
  }
}

const scratchOf = new WeakMap<PackageGraph, Scratch>();

function scratchFor(graph: PackageGraph): Scratch {
  let scratch = scratchOf.get(graph);
  if (scratch === undefined) {
    scratch = new Scratch();
    scratchOf.set(graph, scratch);
  }
  return scratch;
}

function neighbours(graph: PackageGraph, direction: Direction): (id: number, visit: (other: number) => void) => void {
  return direction === 'dependencies' ? (id, visit) => graph.forEachDependencyId(id, visit) : (id, visit) => graph.forEachDependentId(id, visit);
}

/** Breadth-first from `name`, up to `maxDepth` steps; undefined when it is not indexed. */
export function closureOf(graph: PackageGraph, name: string, direction: Direction, maxDepth: number, limit: number): Closure | undefined {
  const start = graph.idOf(name);
  if (start === undefined) return undefined;
  const each = neighbours(graph, direction);
  const scratch = scratchFor(graph);
  const stamp = scratch.begin(graph.idLimit);
  const { stamps, queue } = scratch;
  stamps[start] = stamp;
  // levels one after another in one typed queue: a walk over a million packages makes no garbage
  let tail = 0;
  const visit = (other: number): void => {
    if (stamps[other] === stamp) return;
    stamps[other] = stamp;
    queue[tail++] = other;
  };
  const packages: ClosureEntry[] = [];
  each(start, visit);
  for (let depth = 1, head = 0; depth <= maxDepth && head < tail; depth++) {
    const levelEnd = tail;
    if (packages.length < limit) {
      for (const other of smallestNames(graph, queue.subarray(head, levelEnd), limit - packages.length)) packages.push({ name: other, depth });
    }
    if (depth < maxDepth) for (; head < levelEnd; head++) each(queue[head] as number, visit);
    else head = levelEnd;
  }
  return { name, total: tail, truncated: tail > packages.length, packages };
}

/** Every package `name` needs, each after its own dependencies, `name` last. */
export function installOrderOf(graph: PackageGraph, name: string, limit: number): InstallOrder | undefined {
  const start = graph.idOf(name);
  if (start === undefined) return undefined;
  const members = [start, ...idsWithin(graph, start)];
  const inClosure = new Uint8Array(graph.idLimit);
  for (const id of members) inClosure[id] = 1;
  // remaining[id]: dependencies not yet placed
  const remaining = new Int32Array(graph.idLimit);
  const ready = new NameHeap(graph);
  for (const id of members) {
    remaining[id] = graph.dependencyCountAt(id);
    if (remaining[id] === 0) ready.push(id);
  }
  const order: string[] = [];
  let placed = 0;
  for (let id = ready.pop(); id !== undefined; id = ready.pop()) {
    placed++;
    if (order.length < limit) order.push(graph.nameAt(id) as string);
    graph.forEachDependentId(id, (dependent) => {
      if (inClosure[dependent] !== 1) return;
      const left = (remaining[dependent] as number) - 1;
      remaining[dependent] = left;
      if (left === 0) ready.push(dependent);
    });
  }
  if (placed < members.length)
    return {
      name,
      cycle: cycleAmong(
        graph,
        members.filter((id) => (remaining[id] as number) > 0),
        remaining,
      ),
    };
  return { name, total: members.length, truncated: members.length > order.length, order };
}

/** A shortest chain from → … → to of "depends on" edges; undefined when there is none. */
export function shortestPath(graph: PackageGraph, from: string, to: string): string[] | undefined {
  const start = graph.idOf(from);
  const goal = graph.idOf(to);
  if (start === undefined || goal === undefined) return undefined;
  const parent = new Int32Array(graph.idLimit).fill(NOT_SEEN);
  parent[start] = start;
  let level = [start];
  while (level.length > 0 && parent[goal] === NOT_SEEN) {
    const next: number[] = [];
    for (const id of level) {
      graph.forEachDependencyId(id, (dependency) => {
        if (parent[dependency] !== NOT_SEEN) return;
        parent[dependency] = id;
        next.push(dependency);
      });
    }
    level = next;
  }
  if (parent[goal] === NOT_SEEN) return undefined;
  const path = [to];
  for (let id = goal; id !== start; id = parent[id] as number) path.push(graph.nameAt(parent[id] as number) as string);
  return path.reverse();
}

/** Strongly connected components with more than one member (Tarjan's algorithm, iterative). */
export function cyclesOf(graph: PackageGraph, limit: number): Cycles {
  const size = graph.idLimit;
  const index = new Int32Array(size).fill(NOT_SEEN);
  const low = new Int32Array(size);
  const onStack = new Uint8Array(size);
  const stack: number[] = [];
  const found: string[][] = [];
  let counter = 0;
  for (let root = 1; root < size; root++) {
    if (graph.nameAt(root) === undefined || index[root] !== NOT_SEEN) continue;
    // each frame: a node and its dependency ids still to look at
    const frames: Array<{ id: number; dependencies: number[]; next: number }> = [];
    const enter = (id: number): void => {
      index[id] = low[id] = counter++;
      stack.push(id);
      onStack[id] = 1;
      const dependencies: number[] = [];
      graph.forEachDependencyId(id, (dependency) => dependencies.push(dependency));
      frames.push({ id, dependencies, next: 0 });
    };
    enter(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as (typeof frames)[number];
      if (frame.next < frame.dependencies.length) {
        const dependency = frame.dependencies[frame.next++] as number;
        if (index[dependency] === NOT_SEEN) enter(dependency);
        else if (onStack[dependency] === 1) low[frame.id] = Math.min(low[frame.id] as number, index[dependency] as number);
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent !== undefined) low[parent.id] = Math.min(low[parent.id] as number, low[frame.id] as number);
      if (low[frame.id] !== index[frame.id]) continue;
      const component: string[] = [];
      for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
        onStack[member] = 0;
        component.push(graph.nameAt(member) as string);
        if (member === frame.id) break;
      }
      if (component.length > 1) found.push(component.sort(compareNames));
    }
  }
  found.sort((a, b) => b.length - a.length || compareNames(a[0] as string, b[0] as string));
  return { total: found.length, truncated: found.length > limit, cycles: found.slice(0, limit) };
}

/** The `top` most depended-upon packages, and roots and leaves with their first `sample` names. */
export function summaryOf(graph: PackageGraph, top: number, sample: number): GraphSummary {
  const roots: number[] = [];
  const leaves: number[] = [];
  const popular: number[] = [];
  for (let id = 1; id < graph.idLimit; id++) {
    if (graph.nameAt(id) === undefined) continue;
    if (graph.dependentCountAt(id) === 0) roots.push(id);
    else popular.push(id);
    if (graph.dependencyCountAt(id) === 0) leaves.push(id);
  }
  const byCount = (a: number, b: number): number =>
    graph.dependentCountAt(b) - graph.dependentCountAt(a) || compareNames(graph.nameAt(a) as string, graph.nameAt(b) as string);
  const mostDependedUpon = selectSmallest(popular, top, byCount).map((id) => ({ name: graph.nameAt(id) as string, count: graph.dependentCountAt(id) }));
  return {
    mostDependedUpon,
    roots: { total: roots.length, names: smallestNames(graph, roots, sample) },
    leaves: { total: leaves.length, names: smallestNames(graph, leaves, sample) },
  };
}

/** Ids reachable from `start` along dependencies, `start` left out. */
function idsWithin(graph: PackageGraph, start: number): number[] {
  const scratch = scratchFor(graph);
  const stamp = scratch.begin(graph.idLimit);
  const { stamps, queue } = scratch;
  stamps[start] = stamp;
  let tail = 0;
  queue[tail++] = start;
  for (let head = 0; head < tail; head++) {
    graph.forEachDependencyId(queue[head] as number, (dependency) => {
      if (stamps[dependency] === stamp) return;
      stamps[dependency] = stamp;
      queue[tail++] = dependency;
    });
  }
  return Array.from(queue.subarray(1, tail));
}

/** Follows unplaced dependencies from an unplaced package until one repeats: that loop is a cycle. */
function cycleAmong(graph: PackageGraph, unplaced: number[], remaining: Int32Array): string[] {
  const step = new Map<number, number>();
  let id = unplaced[0] as number;
  while (!step.has(id)) {
    let next: number | undefined;
    graph.forEachDependencyId(id, (dependency) => {
      if (next === undefined && (remaining[dependency] as number) > 0) next = dependency;
    });
    step.set(id, next as number);
    id = next as number;
  }
  const cycle: string[] = [];
  for (let member = id; cycle.length === 0 || member !== id; member = step.get(member) as number) cycle.push(graph.nameAt(member) as string);
  return cycle;
}

/** Names are ASCII, so UTF-16 order is byte order, as in SQL's C collation. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function smallestNames(graph: PackageGraph, ids: ArrayLike<number>, count: number): string[] {
  const names = Array.from(ids, (id) => graph.nameAt(id) as string);
  return selectSmallest(names, count, compareNames);
}

/** The `count` smallest items in order: O(n log count) through a bounded max-heap, then a sort of what it kept. */
function selectSmallest<T>(items: readonly T[], count: number, compare: (a: T, b: T) => number): T[] {
  if (count <= 0) return [];
  if (items.length <= count) return [...items].sort(compare);
  const heap: T[] = [];
  for (const item of items) {
    if (heap.length < count) {
      siftUp(heap, item, compare);
    } else if (compare(item, heap[0] as T) < 0) {
      siftDown(heap, item, compare);
    }
  }
  return heap.sort(compare);
}

/** Adds `item` to a max-heap (the largest at 0). */
function siftUp<T>(heap: T[], item: T, compare: (a: T, b: T) => number): void {
  let at = heap.length;
  heap.push(item);
  while (at > 0) {
    const parent = (at - 1) >> 1;
    if (compare(heap[parent] as T, item) >= 0) break;
    heap[at] = heap[parent] as T;
    at = parent;
  }
  heap[at] = item;
}

/** Puts `item` in place of the max-heap's largest and restores the order. */
function siftDown<T>(heap: T[], item: T, compare: (a: T, b: T) => number): void {
  let at = 0;
  for (;;) {
    let child = 2 * at + 1;
    if (child >= heap.length) break;
    if (child + 1 < heap.length && compare(heap[child + 1] as T, heap[child] as T) > 0) child++;
    if (compare(heap[child] as T, item) <= 0) break;
    heap[at] = heap[child] as T;
    at = child;
  }
  heap[at] = item;
}

/** A min-heap of ids by name, so that the install order is the same on every store. */
class NameHeap {
  #ids: number[] = [];
  #graph: PackageGraph;

  constructor(graph: PackageGraph) {
    this.#graph = graph;
  }

  push(id: number): void {
    const heap = this.#ids;
    let at = heap.length;
    heap.push(id);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.#before(id, heap[parent] as number)) break;
      heap[at] = heap[parent] as number;
      at = parent;
    }
    heap[at] = id;
  }

  pop(): number | undefined {
    const heap = this.#ids;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && this.#before(heap[child + 1] as number, heap[child] as number)) child++;
      if (!this.#before(heap[child] as number, last)) break;
      heap[at] = heap[child] as number;
      at = child;
    }
    heap[at] = last;
    return top;
  }

  #before(a: number, b: number): boolean {
    return (this.#graph.nameAt(a) as string) < (this.#graph.nameAt(b) as string);
  }
}
