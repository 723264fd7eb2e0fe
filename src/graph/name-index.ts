/**
 * Package name → id, for the graph. A Map costs about a microsecond per insert at a million names
 * (rehashing and garbage), a third of a million-package restart; this open-addressing table of ids
 * in one Int32Array costs a third of that and no garbage. Names are not stored here: a slot holds
 * an id, and the graph's own array says which name that id has.
 */

const EMPTY = 0;
const MIN_SLOTS = 1024;

export class NameIndex {
  #slots = new Int32Array(MIN_SLOTS);
  #mask = MIN_SLOTS - 1;
  #size = 0;
  #nameOf: (id: number) => string | undefined;

  /** @param nameOf the name the graph holds at an id; ids are 1 or more */
  constructor(nameOf: (id: number) => string | undefined) {
    this.#nameOf = nameOf;
  }

  get size(): number {
    return this.#size;
  }

  get(name: string): number | undefined {
    const slots = this.#slots;
    for (let at = hashOf(name) & this.#mask; ; at = (at + 1) & this.#mask) {
      const id = slots[at] as number;
      if (id === EMPTY) return undefined;
      if (this.#nameOf(id) === name) return id;
    }
  }

  /** Maps the name (which `nameOf(id)` must already return) to id, replacing any earlier id. */
  set(name: string, id: number): void {
    if ((this.#size + 1) * 2 > this.#slots.length) this.#resize(this.#slots.length * 2);
    const slots = this.#slots;
    let at = hashOf(name) & this.#mask;
    for (; slots[at] !== EMPTY; at = (at + 1) & this.#mask) {
      if (this.#nameOf(slots[at] as number) === name) {
        slots[at] = id;
        return;
      }
    }
    slots[at] = id;
    this.#size++;
  }

  /**
   * Removes the name (while `nameOf` still returns it for its id), only if it maps to `onlyId`
   * when that is given; false when it was absent or mapped to another id.
   */
  delete(name: string, onlyId?: number): boolean {
    const slots = this.#slots;
    const mask = this.#mask;
    let hole = hashOf(name) & mask;
    for (; ; hole = (hole + 1) & mask) {
      const id = slots[hole] as number;
      if (id === EMPTY) return false;
      if (this.#nameOf(id) === name) {
        if (onlyId !== undefined && id !== onlyId) return false;
        break;
      }
    }
    // backward-shift deletion: pull later entries of the probe run into the hole, so that no
    // lookup stops early at it and no tombstones pile up
    for (let next = (hole + 1) & mask; slots[next] !== EMPTY; next = (next + 1) & mask) {
      const id = slots[next] as number;
      const home = hashOf(this.#nameOf(id) ?? '') & mask;
      // move it unless its home lies cyclically in (hole, next]
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        slots[hole] = id;
        hole = next;
      }
    }
    slots[hole] = EMPTY;
    this.#size--;
    return true;
  }

  /** Sizes the table for `count` names at once, so that a big load never rehashes. */
  reserve(count: number): void {
    let slots = this.#slots.length;
    while (count * 2 > slots) slots *= 2;
    if (slots > this.#slots.length) this.#resize(slots);
  }

  #resize(slotCount: number): void {
    const old = this.#slots;
    this.#slots = new Int32Array(slotCount);
    this.#mask = slotCount - 1;
    for (const id of old) {
      if (id === EMPTY) continue;
      let at = hashOf(this.#nameOf(id) ?? '') & this.#mask;
      while (this.#slots[at] !== EMPTY) at = (at + 1) & this.#mask;
      this.#slots[at] = id;
    }
  }
}

/** FNV-1a over the name's characters (ASCII, so UTF-16 code units are its bytes). */
function hashOf(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
