/**
 * What a test dataset is: packages with their dependency lists, listed so that every package comes
 * after its dependencies (a topological order). Generated and file-read datasets both keep that
 * promise, so a consumer can index one in a single pass over one connection.
 */
import { DatasetError } from '../errors.js';
import type { Command, CommandName } from '../protocol/types.js';

export interface Package {
  readonly name: string;
  /** Distinct names of other packages in the same dataset. */
  readonly deps: readonly string[];
}

export type Dataset = readonly Package[];

/**
 * The same packages, each after its dependencies (Kahn's algorithm: first those with none, in
 * their given order). Every dependency must be a package of the dataset.
 */
export function topologicalOrder(packages: Dataset): Package[] {
  const byName = new Map(packages.map((pkg) => [pkg.name, pkg]));
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const pkg of packages) {
    waitingOn.set(pkg.name, pkg.deps.length);
    for (const dep of pkg.deps) {
      if (!byName.has(dep)) throw new DatasetError('PI_ERR_DATASET_FORMAT', `"${pkg.name}" depends on "${dep}", which is not a package`);
      const list = dependents.get(dep);
      if (list === undefined) dependents.set(dep, [pkg.name]);
      else list.push(pkg.name);
    }
  }
  const ordered: Package[] = packages.filter((pkg) => pkg.deps.length === 0);
  for (let at = 0; at < ordered.length; at++) {
    const done = ordered[at] as Package;
    for (const name of dependents.get(done.name) ?? []) {
      const left = (waitingOn.get(name) ?? 0) - 1;
      waitingOn.set(name, left);
      const pkg = byName.get(name);
      if (left === 0 && pkg !== undefined) ordered.push(pkg);
    }
  }
  if (ordered.length < packages.length) {
    const stuck = packages.find((pkg) => (waitingOn.get(pkg.name) ?? 0) > 0);
    throw new DatasetError('PI_ERR_DATASET_CYCLE', `the dependencies form a cycle through "${stuck?.name ?? '?'}"`);
  }
  return ordered;
}

/** The request about a package: INDEX carries its dependencies, REMOVE and QUERY only its name. */
export function commandFor(kind: CommandName, pkg: Package): Command {
  return kind === 'INDEX' ? { kind, name: pkg.name, deps: pkg.deps } : { kind, name: pkg.name };
}

/** How many packages list each package as a dependency. */
export function fanIn(packages: Dataset): Map<string, number> {
  const counts = new Map<string, number>();
  for (const pkg of packages) {
    for (const dep of pkg.deps) counts.set(dep, (counts.get(dep) ?? 0) + 1);
  }
  return counts;
}
