/**
 * Reads and writes the Homebrew dependency dump format the original package-indexer challenge
 * shipped: one package a line, `name: dep1 dep2`, dependencies separated by whitespace, possibly
 * none after the colon. Real dumps mention dependencies that have no line of their own; those are
 * added as packages without dependencies, so that every edge is kept and brute-force indexing of
 * the whole dataset can finish.
 */
import { readFile } from 'node:fs/promises';
import { isValidPackageName } from '../protocol/parse.js';
import { DatasetError } from '../errors.js';
import { topologicalOrder, type Package } from './dataset.js';

/** `name:` then whitespace or the end; the shortest such prefix, since names may contain `:`. */
const LINE = /^(\S+?):(?:\s+(.*))?$/;

/** Parses a dump into a dataset in topological order; throws DatasetError naming the bad line. */
export function parseHomebrewDump(text: string): Package[] {
  const packages = new Map<string, Package>();
  const lines = text.split('\n');
  for (let at = 0; at < lines.length; at++) {
    const line = (lines[at] ?? '').trim();
    if (line.length === 0) continue;
    const pkg = parseHomebrewLine(line, at + 1);
    if (packages.has(pkg.name)) throw new DatasetError('PI_ERR_DATASET_FORMAT', `"${pkg.name}" has a second line`, at + 1);
    packages.set(pkg.name, pkg);
  }
  for (const pkg of [...packages.values()]) {
    for (const dep of pkg.deps) {
      if (!packages.has(dep)) packages.set(dep, { name: dep, deps: [] });
    }
  }
  return topologicalOrder([...packages.values()]);
}

/** One non-blank, trimmed line; throws DatasetError naming the line. */
export function parseHomebrewLine(line: string, lineNumber: number): Package {
  const match = LINE.exec(line);
  const name = match?.[1];
  if (match === null || name === undefined) throw new DatasetError('PI_ERR_DATASET_FORMAT', 'expected "name: dep1 dep2 ..."', lineNumber);
  if (!isValidPackageName(name)) throw new DatasetError('PI_ERR_DATASET_FORMAT', `"${name}" is not a valid package name`, lineNumber);
  const rest = match[2]?.trim() ?? '';
  const deps = rest.length === 0 ? [] : [...new Set(rest.split(/\s+/))];
  for (const dep of deps) {
    if (!isValidPackageName(dep)) throw new DatasetError('PI_ERR_DATASET_FORMAT', `dependency "${dep}" is not a valid package name`, lineNumber);
    if (dep === name) throw new DatasetError('PI_ERR_DATASET_FORMAT', `"${name}" depends on itself`, lineNumber);
  }
  return { name, deps };
}

export async function readHomebrewDump(path: string): Promise<Package[]> {
  return parseHomebrewDump(await readFile(path, 'latin1'));
}

/** The dump text of a dataset, one line per package, which parseHomebrewDump reads back. */
export function formatHomebrewDump(packages: readonly Package[]): string {
  return packages.map((pkg) => (pkg.deps.length === 0 ? `${pkg.name}:\n` : `${pkg.name}: ${pkg.deps.join(' ')}\n`)).join('');
}
