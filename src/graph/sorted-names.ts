/**
 * Package names in order, for paging through the index by prefix and cursor in O(log n + page)
 * instead of a scan of every name. A sorted array takes the bulk; names added or removed since
 * the last merge wait beside it (a small set each) and are folded in once they are many, so a
 * write costs O(1) and a merge O(n) is paid for by thousands of writes.
 */

const MERGE_AFTER = 4096;

export class SortedNames {
  #sorted: string[] = [];
  /** Names not in #sorted. */
  #added = new Set<string>();
  /** Names in #sorted that are gone. */
  #removed = new Set<string>();

  /** Replaces the whole content. */
  reset(names: Iterable<string>): void {
    // the default order compares UTF-16 code units: for ASCII names, code-point order, and much
    // faster than a comparator function
    this.#sorted = [...names].sort();
    this.#added.clear();
    this.#removed.clear();
  }

  /** Records a name that was not in the index. */
  add(name: string): void {
    if (!this.#removed.delete(name)) this.#added.add(name);
  }

  /** Records a name that was in the index. */
  remove(name: string): void {
    if (!this.#added.delete(name)) this.#removed.add(name);
  }

  /** Up to `limit` names that start with `prefix` and sort after `after`, in order. */
  page(prefix: string, after: string, limit: number): string[] {
    if (this.#added.size + this.#removed.size > MERGE_AFTER) this.#merge();
    const from = after < prefix ? prefix : after;
    const fromSorted: string[] = [];
    for (let at = firstAbove(this.#sorted, from, after >= prefix); at < this.#sorted.length && fromSorted.length < limit; at++) {
      const name = this.#sorted[at] as string;
      if (!name.startsWith(prefix)) break;
      if (!this.#removed.has(name)) fromSorted.push(name);
    }
    const fromAdded = [...this.#added].filter((name) => name > after && name.startsWith(prefix)).sort();
    return mergeSorted(fromSorted, fromAdded, limit);
  }

  #merge(): void {
    const kept = this.#removed.size === 0 ? this.#sorted : this.#sorted.filter((name) => !this.#removed.has(name));
    this.#sorted = mergeSorted(kept, [...this.#added].sort(), Number.POSITIVE_INFINITY);
    this.#added.clear();
    this.#removed.clear();
  }
}

/** The first index whose name is above `bound` (or at it, unless `strictly`). */
function firstAbove(sorted: readonly string[], bound: string, strictly: boolean): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const name = sorted[middle] as string;
    if (name < bound || (strictly && name === bound)) low = middle + 1;
    else high = middle;
  }
  return low;
}

function mergeSorted(a: readonly string[], b: readonly string[], limit: number): string[] {
  const merged: string[] = [];
  let i = 0;
  let j = 0;
  while (merged.length < limit && (i < a.length || j < b.length)) {
    if (j >= b.length || (i < a.length && (a[i] as string) < (b[j] as string))) merged.push(a[i++] as string);
    else merged.push(b[j++] as string);
  }
  return merged;
}
