/**
 * Enforces who may import whom (the table in README's Design section): the protocol and the graph
 * stay pure, the server knows the store only as a type, and only cli/ wires everything together.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SOURCE_ROOT = fileURLToPath(new URL('../../../src/', import.meta.url));

/** Where each part of src/ may import from (folders or root files of src/, or packages). */
const ALLOWED: Record<string, { readonly ours: readonly string[]; readonly packages: readonly string[]; readonly typeOnly?: readonly string[] }> = {
  protocol: { ours: ['protocol'], packages: [] },
  graph: { ours: ['graph'], packages: [] },
  dataset: { ours: ['dataset', 'protocol', 'errors.ts'], packages: ['node:fs/promises'] },
  store: { ours: ['store', 'graph', 'protocol', 'errors.ts', 'log.ts', 'metrics.ts', 'config.ts'], packages: ['better-sqlite3', 'postgres', 'pino', 'prom-client', 'node:fs', 'node:path', 'node:os', 'node:timers/promises'] },
  server: { ours: ['server', 'protocol', 'errors.ts', 'log.ts', 'metrics.ts'], packages: ['node:net', 'node:stream', 'pino'], typeOnly: ['store'] },
  admin: { ours: ['admin', 'protocol', 'metrics.ts', 'log.ts'], packages: ['node:http', 'node:net', 'pino', 'prom-client'], typeOnly: ['store'] },
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

interface Import {
  readonly specifier: string;
  readonly typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^import (type )?[^;]*?from '([^']+)';/gms)].map((match) => ({ specifier: match[2] ?? '', typeOnly: match[1] !== undefined }));
}

/** The folder (or root file) of src/ an import lands in, or undefined for a package. */
function partOf(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = path.relative(SOURCE_ROOT, path.resolve(path.dirname(file), specifier));
  const [first = ''] = target.split(path.sep);
  return first.endsWith('.js') ? first.replace(/\.js$/, '.ts') : first;
}

test('each part of src imports only what the architecture allows', () => {
  const violations: string[] = [];
  for (const file of sourceFiles(SOURCE_ROOT)) {
    const part = path.relative(SOURCE_ROOT, file).split(path.sep)[0] ?? '';
    const rules = ALLOWED[part];
    if (rules === undefined) continue;
    for (const { specifier, typeOnly } of importsOf(file)) {
      const target = partOf(file, specifier);
      const allowed = target === undefined
        ? rules.packages.includes(specifier)
        : rules.ours.includes(target) || (typeOnly && (rules.typeOnly ?? []).includes(target));
      if (!allowed) violations.push(`${path.relative(SOURCE_ROOT, file)} imports ${typeOnly ? 'type ' : ''}'${specifier}'`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the boundary check reads value and type imports, across lines', () => {
  const imports = importsOf(path.join(SOURCE_ROOT, 'server', 'connection.ts'));
  assert.ok(imports.some(({ specifier, typeOnly }) => specifier === '../store/backend.js' && typeOnly));
  assert.ok(imports.some(({ specifier, typeOnly }) => specifier === '../protocol/parse.js' && !typeOnly));
  assert.equal(partOf(path.join(SOURCE_ROOT, 'server', 'server.ts'), '../store/backend.js'), 'store');
  assert.equal(partOf(path.join(SOURCE_ROOT, 'server', 'server.ts'), '../metrics.js'), 'metrics.ts');
});
