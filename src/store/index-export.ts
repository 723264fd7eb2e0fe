/**
 * The whole index at one moment, in the order export writes it: every package after its
 * dependencies, ties by name, each package's dependencies by name, so that one index always gives
 * one byte-for-byte export whatever order it was built in. Packages a cycle holds back (a re-INDEX
 * can close one) come last, by name: the protocol cannot rebuild them, and export says so.
 */
import { dependencyOrder } from '../graph/dependency-order.js';
import type { GraphState } from '../graph/package-graph.js';

export interface ExportedPackage {
  readonly name: string;
  readonly deps: readonly string[];
}

export interface IndexExport {
  /** Every package: first those in dependency order, then `heldByCycles` of them. */
  readonly packages: readonly ExportedPackage[];
  /** How many of the last packages are in a cycle or depend on one. */
  readonly heldByCycles: number;
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Packages converted between two turns of the event loop, so that commands keep being answered. */
const PACKAGES_PER_TURN = 65_536;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Orders a consistent copy of the index for export. */
export async function orderForExport(unordered: ExportedPackage[]): Promise<IndexExport> {
  for (const [at, pkg] of unordered.entries()) {
    (pkg.deps as string[]).sort(byCodePoint);
    if (at % PACKAGES_PER_TURN === PACKAGES_PER_TURN - 1) await nextTurn();
  }
  unordered.sort((a, b) => byCodePoint(a.name, b.name));
  await nextTurn();
  const { ordered, held } = dependencyOrder(unordered);
  return { packages: [...ordered.map((entry) => entry.pkg), ...held], heldByCycles: held.length };
}

/** The packages of a graph copy (`PackageGraph.exportState`), ordered for export. */
export async function exportOfGraphState(state: GraphState): Promise<IndexExport> {
  const names = state.names.split('\n');
  const packages: ExportedPackage[] = [];
  for (let id = 1; id < names.length; id++) {
    const name = names[id] as string;
    if (name === '') continue;
    const start = state.starts[id] as number;
    const deps = new Array<string>(state.lengths[id] as number);
    for (let k = 0; k < deps.length; k++) deps[k] = names[state.pool[start + k] as number] as string;
    packages.push({ name, deps });
    if (id % PACKAGES_PER_TURN === 0) await nextTurn();
  }
  return orderForExport(packages);
}
