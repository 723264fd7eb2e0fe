/**
 * Who depends on each package, as real lists rather than counts, so that dependents and reverse
 * closures cost O(answer) instead of a scan of every edge. Each id's list sits in one shared
 * Int32Array pool with room to grow (capacity doubles, the list moves to the pool's end); moved
 * lists leave gaps that a compaction reclaims once they outweigh the live entries. A list is
 * unordered: removal swaps the last entry into the hole, O(the list's length).
 */

const MIN_POOL_SLOTS = 4096;
const MIN_ID_SLOTS = 1024;
const MIN_LIST_CAPACITY = 4;

export class DependentLists {
  #starts = new Int32Array(MIN_ID_SLOTS);
  #lengths = new Int32Array(MIN_ID_SLOTS);
  #capacities = new Int32Array(MIN_ID_SLOTS);
  #pool = new Int32Array(MIN_POOL_SLOTS);
  #poolEnd = 0;
  #live = 0;

  /**
   * Lists built in one pass, each exactly as long as `counts` says: a bulk load costs O(ids +
   * edges) and no relocation. `forEachEdge` must call back once per (target, dependent) edge.
   */
  static fromEdges(counts: Int32Array, forEachEdge: (add: (target: number, dependent: number) => void) => void): DependentLists {
    const lists = new DependentLists();
    const slots = Math.max(MIN_ID_SLOTS, counts.length);
    lists.#starts = new Int32Array(slots);
    lists.#lengths = new Int32Array(slots);
    lists.#capacities = new Int32Array(slots);
    let end = 0;
    for (let id = 0; id < counts.length; id++) {
      lists.#starts[id] = end;
      lists.#capacities[id] = counts[id] as number;
      end += counts[id] as number;
    }
    lists.#pool = new Int32Array(Math.max(MIN_POOL_SLOTS, end + (end >> 3)));
    lists.#poolEnd = end;
    forEachEdge((target, dependent) => {
      const length = lists.#lengths[target] as number;
      lists.#pool[(lists.#starts[target] as number) + length] = dependent;
      lists.#lengths[target] = length + 1;
    });
    lists.#live = end;
    return lists;
  }

  /** How many ids list `target` (0 for an id never seen). */
  countOf(target: number): number {
    return target < this.#lengths.length ? (this.#lengths[target] as number) : 0;
  }

  /** Calls `visit` with each id that lists `target`, in no particular order. */
  forEach(target: number, visit: (dependent: number) => void): void {
    const length = this.countOf(target);
    if (length === 0) return;
    const start = this.#starts[target] as number;
    const pool = this.#pool;
    for (let k = start; k < start + length; k++) visit(pool[k] as number);
  }

  /** The ids that list `target`, as a fresh array. */
  listOf(target: number): number[] {
    const length = this.countOf(target);
    const start = this.#starts[target] as number;
    return Array.from(this.#pool.subarray(start, start + length));
  }

  add(target: number, dependent: number): void {
    if (target >= this.#lengths.length) this.#growIds(target);
    const length = this.#lengths[target] as number;
    if (length === (this.#capacities[target] as number)) this.#move(target, Math.max(MIN_LIST_CAPACITY, 2 * length));
    this.#pool[(this.#starts[target] as number) + length] = dependent;
    this.#lengths[target] = length + 1;
    this.#live++;
  }

  /** Takes one `dependent` off `target`'s list; a no-op when it is not there. */
  remove(target: number, dependent: number): void {
    const length = this.countOf(target);
    const start = this.#starts[target] as number;
    const pool = this.#pool;
    for (let k = start; k < start + length; k++) {
      if (pool[k] !== dependent) continue;
      pool[k] = pool[start + length - 1] as number;
      this.#lengths[target] = length - 1;
      this.#live--;
      return;
    }
  }

  /** Gives `target`'s list a new place at the pool's end with room for `capacity` ids. */
  #move(target: number, capacity: number): void {
    if (this.#poolEnd + capacity > this.#pool.length) this.#makeRoom(capacity);
    const start = this.#starts[target] as number;
    const length = this.#lengths[target] as number;
    this.#pool.copyWithin(this.#poolEnd, start, start + length);
    this.#starts[target] = this.#poolEnd;
    this.#capacities[target] = capacity;
    this.#poolEnd += capacity;
  }

  /** Compacts when gaps outweigh the live entries, else grows the pool. */
  #makeRoom(needed: number): void {
    const used = this.#capacityInUse();
    if (this.#poolEnd - used > used) {
      this.#compact(needed);
      if (this.#poolEnd + needed <= this.#pool.length) return;
    }
    const pool = new Int32Array(Math.max(2 * this.#pool.length, this.#poolEnd + needed));
    pool.set(this.#pool.subarray(0, this.#poolEnd));
    this.#pool = pool;
  }

  #capacityInUse(): number {
    let sum = 0;
    const capacities = this.#capacities;
    for (let id = 0; id < capacities.length; id++) sum += capacities[id] as number;
    return sum;
  }

  /** Copies every list into a fresh pool, each keeping its capacity, with `extra` slots to spare. */
  #compact(extra: number): void {
    const used = this.#capacityInUse();
    const pool = new Int32Array(Math.max(MIN_POOL_SLOTS, used + extra, this.#pool.length));
    let end = 0;
    for (let id = 0; id < this.#starts.length; id++) {
      const capacity = this.#capacities[id] as number;
      if (capacity === 0) continue;
      const start = this.#starts[id] as number;
      pool.set(this.#pool.subarray(start, start + (this.#lengths[id] as number)), end);
      this.#starts[id] = end;
      end += capacity;
    }
    this.#pool = pool;
    this.#poolEnd = end;
  }

  #growIds(atLeast: number): void {
    let capacity = this.#starts.length * 2;
    while (capacity <= atLeast) capacity *= 2;
    this.#starts = grown(this.#starts, capacity);
    this.#lengths = grown(this.#lengths, capacity);
    this.#capacities = grown(this.#capacities, capacity);
  }

  /** Entries in use, for tests and memory figures. */
  get size(): number {
    return this.#live;
  }

  /** Int32 slots allocated: 4 bytes each. */
  get poolCapacity(): number {
    return this.#pool.length;
  }
}

function grown(array: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const copy = new Int32Array(capacity);
  copy.set(array);
  return copy;
}
