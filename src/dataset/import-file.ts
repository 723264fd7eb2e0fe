/**
 * Reads a file for `package-indexer import`, forgiving where the benchmark's reader is strict: a
 * broken line is kept as a problem with its line number and the rest is read. Two formats: the
 * Homebrew dump (`name: dep1 dep2`) and JSON lines (`{"name": "b", "dependencies": ["a"]}`), the
 * two that `/v1/export` writes. As in the Homebrew reader, a dependency without a line of its own
 * becomes a package without dependencies, unless its line is one of the broken ones.
 */
import { readFile } from 'node:fs/promises';
import { DatasetError } from '../errors.js';
import { isValidPackageName } from '../protocol/parse.js';
import type { Package } from './dataset.js';
import { parseHomebrewLine } from './homebrew.js';

export type ImportFormat = 'homebrew' | 'jsonl';

export interface LineProblem {
  readonly line: number;
  readonly message: string;
}

export interface ImportFile {
  readonly format: ImportFormat;
  /** The packages of the good lines in file order, then those added for dependencies without a line. */
  readonly packages: readonly Package[];
  /** How many of `packages` were added for dependencies without a line. */
  readonly added: number;
  readonly problems: readonly LineProblem[];
}

/** JSON lines when the name says so or the first non-blank character opens an object. */
export function guessFormat(path: string, text: string): ImportFormat {
  if (/\.(jsonl|ndjson)$/i.test(path)) return 'jsonl';
  return /^\s*\{/.test(text) ? 'jsonl' : 'homebrew';
}

function parseJsonLine(line: string, lineNumber: number): Package {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new DatasetError('PI_ERR_DATASET_FORMAT', 'not a JSON value', lineNumber);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new DatasetError('PI_ERR_DATASET_FORMAT', 'expected {"name": ..., "dependencies": [...]}', lineNumber);
  const { name, dependencies = [] } = value as { name?: unknown; dependencies?: unknown };
  if (typeof name !== 'string' || !isValidPackageName(name))
    throw new DatasetError('PI_ERR_DATASET_FORMAT', `"name" must be a valid package name, got ${JSON.stringify(name)}`, lineNumber);
  if (!Array.isArray(dependencies)) throw new DatasetError('PI_ERR_DATASET_FORMAT', '"dependencies" must be an array of package names', lineNumber);
  for (const dep of dependencies) {
    if (typeof dep !== 'string' || !isValidPackageName(dep))
      throw new DatasetError('PI_ERR_DATASET_FORMAT', `dependency ${JSON.stringify(dep)} is not a valid package name`, lineNumber);
    if (dep === name) throw new DatasetError('PI_ERR_DATASET_FORMAT', `"${name}" depends on itself`, lineNumber);
  }
  return { name, deps: [...new Set(dependencies as string[])] };
}

/** The name a broken line was about, when one can be made out, so it is not invented again. */
function nameOfBrokenLine(line: string, format: ImportFormat): string | undefined {
  if (format === 'homebrew') return /^(\S+?):/.exec(line)?.[1];
  return /"name"\s*:\s*"([^"]+)"/.exec(line)?.[1];
}

export function parseImportText(text: string, format: ImportFormat): ImportFile {
  const packages = new Map<string, Package>();
  const broken = new Set<string>();
  const problems: LineProblem[] = [];
  const lines = text.split('\n');
  const parse = format === 'jsonl' ? parseJsonLine : parseHomebrewLine;
  for (let at = 0; at < lines.length; at++) {
    const line = (lines[at] ?? '').trim();
    if (line.length === 0) continue;
    try {
      const pkg = parse(line, at + 1);
      if (packages.has(pkg.name)) throw new DatasetError('PI_ERR_DATASET_FORMAT', `"${pkg.name}" has a second line`, at + 1);
      packages.set(pkg.name, pkg);
    } catch (error) {
      if (!(error instanceof DatasetError)) throw error;
      problems.push({ line: at + 1, message: error.message.replace(/^line \d+: /, '') });
      const name = nameOfBrokenLine(line, format);
      if (name !== undefined) broken.add(name);
    }
  }
  const given = packages.size;
  for (const pkg of [...packages.values()]) {
    for (const dep of pkg.deps) if (!packages.has(dep) && !broken.has(dep)) packages.set(dep, { name: dep, deps: [] });
  }
  return { format, packages: [...packages.values()], added: packages.size - given, problems };
}

export async function readImportFile(path: string, format?: ImportFormat): Promise<ImportFile> {
  const text = await readFile(path, 'utf8');
  return parseImportText(text, format ?? guessFormat(path, text));
}
