/**
 * Lists packages so that each comes after its dependencies, without giving up on a cycle: what a
 * cycle holds back is returned apart, with the names that form the cycles, so that export can
 * still write everything and import can load the rest and name what it could not. A dependency
 * outside the list counts as already there.
 */

export interface NamedPackage {
  readonly name: string;
  readonly deps: readonly string[];
}

export interface DependencyOrder<T extends NamedPackage> {
  /** Every package after its dependencies, with its level: 0 without dependencies, else 1 + its deepest dependency's. */
  readonly ordered: ReadonlyArray<{ readonly pkg: T; readonly level: number }>;
  /** The packages in a cycle or depending on one, in their given order. */
  readonly held: readonly T[];
  /** The names of `held` that are in a cycle (or on a chain between two), in their given order. */
  readonly inCycles: readonly string[];
}

/** Kahn's algorithm; ties keep the given order, so a sorted input gives one order for one index. */
export function dependencyOrder<T extends NamedPackage>(packages: readonly T[]): DependencyOrder<T> {
  const known = new Set(packages.map((pkg) => pkg.name));
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, T[]>();
  for (const pkg of packages) {
    let waiting = 0;
    for (const dep of pkg.deps) {
      if (!known.has(dep) || dep === pkg.name) continue;
      waiting++;
      const list = dependents.get(dep);
      if (list === undefined) dependents.set(dep, [pkg]);
      else list.push(pkg);
    }
    waitingOn.set(pkg.name, waiting);
  }
  const level = new Map<string, number>();
  const ordered: Array<{ pkg: T; level: number }> = packages.filter((pkg) => waitingOn.get(pkg.name) === 0).map((pkg) => ({ pkg, level: 0 }));
  for (let at = 0; at < ordered.length; at++) {
    const done = ordered[at] as { pkg: T; level: number };
    for (const dependent of dependents.get(done.pkg.name) ?? []) {
      level.set(dependent.name, Math.max(level.get(dependent.name) ?? 0, done.level + 1));
      const left = (waitingOn.get(dependent.name) ?? 0) - 1;
      waitingOn.set(dependent.name, left);
      if (left === 0) ordered.push({ pkg: dependent, level: level.get(dependent.name) ?? 0 });
    }
  }
  const held = packages.filter((pkg) => (waitingOn.get(pkg.name) ?? 0) > 0);
  return { ordered, held, inCycles: cycleMembers(held, known) };
}

/** Of the held packages, drops those nothing held depends on, until only cycles (and chains between them) stay. */
function cycleMembers(held: readonly NamedPackage[], known: ReadonlySet<string>): string[] {
  const heldNames = new Set(held.map((pkg) => pkg.name));
  const dependedOnBy = new Map<string, number>();
  for (const pkg of held) for (const dep of pkg.deps) if (heldNames.has(dep) && known.has(dep)) dependedOnBy.set(dep, (dependedOnBy.get(dep) ?? 0) + 1);
  const byName = new Map(held.map((pkg) => [pkg.name, pkg]));
  const dropped = new Set<string>();
  const queue = held.filter((pkg) => (dependedOnBy.get(pkg.name) ?? 0) === 0).map((pkg) => pkg.name);
  while (queue.length > 0) {
    const name = queue.pop() as string;
    dropped.add(name);
    for (const dep of byName.get(name)?.deps ?? []) {
      if (!heldNames.has(dep)) continue;
      const left = (dependedOnBy.get(dep) ?? 0) - 1;
      dependedOnBy.set(dep, left);
      if (left === 0) queue.push(dep);
    }
  }
  return held.filter((pkg) => !dropped.has(pkg.name)).map((pkg) => pkg.name);
}
