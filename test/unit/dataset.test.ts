import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BROKEN_LINE_KINDS, makeBrokenLine } from '../../src/dataset/broken-lines.js';
import { fanIn, topologicalOrder, type Package } from '../../src/dataset/dataset.js';
import { generateDataset } from '../../src/dataset/generate.js';
import { formatHomebrewDump, parseHomebrewDump } from '../../src/dataset/homebrew.js';
import { Random } from '../../src/dataset/random.js';
import { DatasetError } from '../../src/errors.js';
import { isValidPackageName, parseLine } from '../../src/protocol/parse.js';

function assertDatasetInvariants(packages: readonly Package[]): void {
  const seen = new Set<string>();
  for (const pkg of packages) {
    assert.ok(isValidPackageName(pkg.name), `invalid name ${pkg.name}`);
    assert.ok(!seen.has(pkg.name), `duplicate package ${pkg.name}`);
    assert.equal(new Set(pkg.deps).size, pkg.deps.length, `repeated dependency in ${pkg.name}`);
    for (const dep of pkg.deps) {
      assert.notEqual(dep, pkg.name, `${pkg.name} depends on itself`);
      assert.ok(seen.has(dep), `${pkg.name} depends on ${dep}, which does not come before it`);
    }
    seen.add(pkg.name);
  }
}

function throwsCode(fn: () => unknown, code: string, line?: number): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof DatasetError);
    assert.equal(error.code, code);
    if (line !== undefined) assert.equal(error.line, line);
    return true;
  });
}

test('the random generator repeats its sequence for a seed and differs between seeds', () => {
  const draw = (seed: number): number[] => {
    const random = new Random(seed);
    return Array.from({ length: 20 }, () => random.next());
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
  assert.ok(draw(7).every((value) => value >= 0 && value < 1));
});

test('a generated dataset is the same for the same seed and differs for another seed', () => {
  assert.deepEqual(generateDataset({ packages: 2000, seed: 5 }), generateDataset({ packages: 2000, seed: 5 }));
  assert.notDeepEqual(generateDataset({ packages: 2000, seed: 5 }), generateDataset({ packages: 2000, seed: 6 }));
});

test('a generated dataset is a DAG listing every package after its distinct dependencies, with valid names', () => {
  for (const seed of [1, 2, 3]) {
    const packages = generateDataset({ packages: 5000, seed });
    assert.equal(packages.length, 5000);
    assertDatasetInvariants(packages);
  }
});

test('generated dependency counts have the asked mean, mostly 0 to 3, with a heavy tail', () => {
  for (const seed of [1, 2, 3]) {
    const packages = generateDataset({ packages: 5000, meanDeps: 3, seed });
    const counts = packages.map((pkg) => pkg.deps.length);
    const mean = counts.reduce((sum, count) => sum + count, 0) / counts.length;
    assert.ok(Math.abs(mean - 3) < 0.3, `mean ${mean}`);
    assert.ok(counts.filter((count) => count <= 3).length > 0.7 * counts.length);
    assert.ok(counts.filter((count) => count >= 100).length >= 3, 'packages with 100+ dependencies');
  }
});

test('generated fan-in is heavy-tailed: a few packages are depended on by very many, most by none', () => {
  for (const seed of [1, 2, 3]) {
    const packages = generateDataset({ packages: 5000, meanDeps: 3, seed });
    const fanInCounts = [...fanIn(packages).values()];
    assert.ok(Math.max(...fanInCounts) >= 100, `max fan-in ${Math.max(...fanInCounts)}`);
    assert.ok(packages.length - fanInCounts.length > packages.length / 3, 'packages nobody depends on');
  }
});

test('the mean dependency count is a parameter, and zero means no edges', () => {
  const dense = generateDataset({ packages: 20_000, meanDeps: 10, seed: 1 });
  const mean = dense.reduce((sum, pkg) => sum + pkg.deps.length, 0) / dense.length;
  assert.ok(Math.abs(mean - 10) < 1, `mean ${mean}`);
  assertDatasetInvariants(dense);
  assert.ok(generateDataset({ packages: 100, meanDeps: 0 }).every((pkg) => pkg.deps.length === 0));
  assert.deepEqual(generateDataset({ packages: 0 }), []);
});

test('a Homebrew dump is read with and without dependencies, skipping blank lines', () => {
  const packages = parseHomebrewDump('cloog: gmp  isl pkg-config\n\ngmp:\nisl: gmp\r\npkg-config:\n');
  assertDatasetInvariants(packages);
  const deps = new Map(packages.map((pkg) => [pkg.name, pkg.deps]));
  assert.deepEqual(
    deps,
    new Map([
      ['gmp', []],
      ['pkg-config', []],
      ['isl', ['gmp']],
      ['cloog', ['gmp', 'isl', 'pkg-config']],
    ]),
  );
});

test('dependencies a Homebrew dump names without their own line become packages without dependencies', () => {
  const packages = parseHomebrewDump('app: libfoo python@3.12\nlibfoo: zlib\n');
  assertDatasetInvariants(packages);
  assert.deepEqual(
    new Map(packages.map((pkg) => [pkg.name, pkg.deps])),
    new Map([
      ['zlib', []],
      ['python@3.12', []],
      ['libfoo', ['zlib']],
      ['app', ['libfoo', 'python@3.12']],
    ]),
  );
});

test('a malformed Homebrew line is rejected with its line number', () => {
  throwsCode(() => parseHomebrewDump('a: b\nno colon here\n'), 'PI_ERR_DATASET_FORMAT', 2);
  throwsCode(() => parseHomebrewDump('a:\n\nbad=name: a\n'), 'PI_ERR_DATASET_FORMAT', 3);
  throwsCode(() => parseHomebrewDump('a: b,c\n'), 'PI_ERR_DATASET_FORMAT', 1);
  throwsCode(() => parseHomebrewDump('a: a\n'), 'PI_ERR_DATASET_FORMAT', 1);
  throwsCode(() => parseHomebrewDump('a:\nb: a\na: b\n'), 'PI_ERR_DATASET_FORMAT', 3);
});

test('a Homebrew dump whose dependencies form a cycle is rejected', () => {
  throwsCode(() => parseHomebrewDump('a: b\nb: c\nc: a\nd:\n'), 'PI_ERR_DATASET_CYCLE');
});

test('a generated dataset survives a round trip through the Homebrew dump format', () => {
  const packages = generateDataset({ packages: 3000, seed: 9 });
  const read = parseHomebrewDump(formatHomebrewDump(packages));
  assertDatasetInvariants(read);
  assert.deepEqual(new Map(read.map((pkg) => [pkg.name, pkg.deps])), new Map(packages.map((pkg) => [pkg.name, pkg.deps])));
});

test('topological order puts dependencies first and rejects a dependency that is not a package', () => {
  const ordered = topologicalOrder([
    { name: 'c', deps: ['b'] },
    { name: 'b', deps: ['a'] },
    { name: 'a', deps: [] },
  ]);
  assert.deepEqual(
    ordered.map((pkg) => pkg.name),
    ['a', 'b', 'c'],
  );
  throwsCode(() => topologicalOrder([{ name: 'c', deps: ['missing'] }]), 'PI_ERR_DATASET_FORMAT');
});

test('every kind of broken line is one the protocol parser rejects', () => {
  const random = new Random(3);
  const kinds = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const broken = makeBrokenLine('lib-foo-12', 'bar-3.js', random);
    kinds.add(broken.kind);
    assert.ok(broken.line.endsWith('\n'));
    const text = Buffer.from(broken.line.slice(0, -1), 'utf8').toString('latin1');
    assert.equal(parseLine(text).kind, 'error', `${broken.kind}: ${JSON.stringify(broken.line)}`);
  }
  assert.deepEqual([...kinds].sort(), [...BROKEN_LINE_KINDS].sort());
});
