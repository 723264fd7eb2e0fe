/**
 * The part of the index around one package that the drawing shows: up to `depth` levels of
 * dependencies and of dependents, found breadth-first one package at a time through the read
 * API. Each package shows at most `fanout` neighbours each way and the rest as one "+N more"
 * node, and the whole drawing at most `maxNodes` packages, so a package with a hundred thousand
 * dependents costs the same few requests as one with ten.
 */
import type { PackageView } from './api';

export type Way = 'dependencies' | 'dependents' | 'both';

export interface HoodNode {
  readonly id: string;
  /** The package; for a "+N more" node, the package whose list was cut. */
  readonly name: string;
  readonly kind: 'root' | 'package' | 'more';
  /** Which way from the root it was found: it is a dependency or a dependent of the root. */
  readonly side?: 'dependency' | 'dependent';
  /** For a "+N more" node: how many were left out. */
  readonly more?: number;
}

/** `from` depends on `to`. */
export interface HoodEdge {
  readonly from: string;
  readonly to: string;
}

export interface Hood {
  readonly nodes: Map<string, HoodNode>;
  readonly edges: HoodEdge[];
}

export interface HoodLimits {
  readonly fanout: number;
  readonly maxNodes: number;
  /** Requests in flight at once. */
  readonly parallel: number;
}

export const DEFAULT_LIMITS: HoodLimits = { fanout: 12, maxNodes: 160, parallel: 24 };

export type Describe = (name: string, dependentsLimit: number) => Promise<PackageView | undefined>;

export async function neighbourhood(root: PackageView, depth: number, way: Way, describe: Describe, limits: HoodLimits = DEFAULT_LIMITS): Promise<Hood> {
  const hood: Hood = { nodes: new Map([[root.name, { id: root.name, name: root.name, kind: 'root' }]]), edges: [] };
  const views = new Map<string, PackageView>([[root.name, root]]);
  const look = async (name: string): Promise<PackageView | undefined> => views.get(name) ?? describe(name, limits.fanout);
  const directions = way === 'both' ? (['dependencies', 'dependents'] as const) : ([way] as const);
  // both ways advance a level at a time together, so their requests share each round trip; the
  // nodes are added in a fixed order (dependencies first), so the drawing does not depend on timing
  const frontiers = new Map<'dependencies' | 'dependents', string[]>(directions.map((direction) => [direction, [root.name]]));
  for (let level = 1; level <= depth; level++) {
    const wanted = [...new Set([...frontiers.values()].flat())];
    if (wanted.length === 0) break;
    for (const view of await inBatches(wanted, limits.parallel, look)) if (view !== undefined) views.set(view.name, view);
    for (const [direction, frontier] of frontiers) {
      const next: string[] = [];
      for (const name of frontier) {
        const view = views.get(name);
        if (view !== undefined) next.push(...expand(hood, view, direction, limits));
      }
      frontiers.set(direction, next);
    }
  }
  return hood;
}

/** Adds the neighbours of one package that fit, and a "+N more" node for the rest; returns the new ones. */
function expand(hood: Hood, view: PackageView, direction: 'dependencies' | 'dependents', limits: HoodLimits): string[] {
  const neighbours = direction === 'dependencies' ? view.dependencies : view.dependents;
  const total = direction === 'dependencies' ? view.dependencies.length : view.dependentsTotal;
  const added: string[] = [];
  const side = direction === 'dependencies' ? 'dependency' : 'dependent';
  let shown = 0;
  for (const name of neighbours.slice(0, limits.fanout)) {
    const known = hood.nodes.has(name);
    if (!known && hood.nodes.size >= limits.maxNodes) break;
    if (!known) {
      hood.nodes.set(name, { id: name, name, kind: 'package', side });
      added.push(name);
    }
    hood.edges.push(direction === 'dependencies' ? { from: view.name, to: name } : { from: name, to: view.name });
    shown++;
  }
  if (total > shown) {
    // a space never occurs in a package name, so this id cannot be one
    const id = `more ${direction} ${view.name}`;
    hood.nodes.set(id, { id, name: view.name, kind: 'more', side, more: total - shown });
    hood.edges.push(direction === 'dependencies' ? { from: view.name, to: id } : { from: id, to: view.name });
  }
  return added;
}

async function inBatches<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) results.push(...(await Promise.all(items.slice(start, start + size).map(work))));
  return results;
}

/** Adds a chain of packages (each depending on the next) to the drawing, for the path question. */
export function withChain(hood: Hood, chain: readonly string[]): Hood {
  const nodes = new Map(hood.nodes);
  const edges = [...hood.edges];
  chain.forEach((name, index) => {
    if (!nodes.has(name)) nodes.set(name, { id: name, name, kind: 'package' });
    const next = chain[index + 1];
    if (next !== undefined && !edges.some((edge) => edge.from === name && edge.to === next)) edges.push({ from: name, to: next });
  });
  return { nodes, edges };
}
