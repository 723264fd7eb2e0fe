/**
 * Moving an index out and in: `GET /v1/export` writes every package after its dependencies, and
 * `package-indexer import` of that text into an empty server (in memory or SQLite) gives back an
 * index whose export is the same, byte for byte. Broken lines and cycles are reported by line
 * number and name while the rest loads.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ProtocolClient } from '../../src/client/protocol-client.js';
import { startIndexer } from '../../src/cli/indexer.js';
import { resolveConfig } from '../../src/config.js';
import { commandFor } from '../../src/dataset/dataset.js';
import { generateDataset } from '../../src/dataset/generate.js';
import { silentLogger } from '../../src/log.js';
import { encodeCommand } from '../../src/protocol/encode.js';
import { run } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/serve-child.js';
import { RawClient } from '../helpers/server-harness.js';

interface Server {
  readonly port: number;
  readonly admin: string;
}

async function startServer(t: TestContext, store: { 'in-memory': true } | { 'data-dir': string }): Promise<Server> {
  const indexer = await startIndexer(resolveConfig({ port: '0', host: '127.0.0.1', 'admin-port': '0', ...store }, {}), silentLogger());
  t.after(() => indexer.stop());
  return { port: indexer.address.port, admin: `http://127.0.0.1:${indexer.adminAddress?.port}` };
}

async function exportOf(server: Server, format: string): Promise<{ text: string; held: string | null }> {
  const response = await fetch(`${server.admin}/v1/export?format=${format}`);
  assert.equal(response.status, 200);
  return { text: await response.text(), held: response.headers.get('x-held-by-cycles') };
}

/** Every name appears after each of its dependencies. */
function assertDependenciesFirst(text: string): void {
  const seen = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    const [, name = '', rest = ''] = /^(\S+?):(?:\s+(.*))?$/.exec(line) ?? [];
    for (const dep of rest.split(' ').filter((word) => word !== '')) assert.ok(seen.has(dep), `${name} comes before its dependency ${dep}`);
    seen.add(name);
  }
}

test('export → import into an empty server → export is byte-identical, in both formats and both graph stores', async (t) => {
  const source = await startServer(t, { 'in-memory': true });
  const dataset = generateDataset({ packages: 3_000, meanDeps: 3, seed: 14 });
  const client = await ProtocolClient.connect('127.0.0.1', source.port);
  const replies = await Promise.all(dataset.map((pkg) => client.request(encodeCommand(commandFor('INDEX', pkg)))));
  client.close();
  assert.ok(replies.every((reply) => reply === 'OK'));

  const homebrew = await exportOf(source, 'homebrew');
  assert.equal(homebrew.text.split('\n').length - 1, dataset.length);
  assert.equal(homebrew.held, '0');
  assertDependenciesFirst(homebrew.text);
  const dir = tempDir(t, 'pi-export-');
  for (const [format, store] of [
    ['homebrew', { 'in-memory': true }],
    ['jsonl', { 'data-dir': join(dir, 'store') }],
  ] as const) {
    const exported = format === 'homebrew' ? homebrew : await exportOf(source, format);
    const file = join(dir, `index.${format === 'jsonl' ? 'jsonl' : 'txt'}`);
    writeFileSync(file, exported.text);
    const target = await startServer(t, store);
    const imported = await run(t, ['import', file, '--port', String(target.port)]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, new RegExp(`^import: ${dataset.length} indexed, 0 failed, 0 broken lines, 0 packages held by cycles; `));
    assert.equal((await exportOf(target, format)).text, exported.text, `${format} export of the imported index`);
  }
});

test('export puts what a cycle holds back last, by name, and import names the cycle and loads the rest', async (t) => {
  const source = await startServer(t, { 'in-memory': true });
  const raw = await RawClient.connect(t, source.port);
  // a re-INDEX closes the cycle a → b → a; c depends on it, d does not
  assert.deepEqual(await raw.exchange('INDEX|d|', 'INDEX|a|', 'INDEX|b|a', 'INDEX|c|b', 'INDEX|a|b'), ['OK', 'OK', 'OK', 'OK', 'OK']);
  const exported = await exportOf(source, 'homebrew');
  assert.equal(exported.text, 'd:\na: b\nb: a\nc: b\n');
  assert.equal(exported.held, '3');

  const file = join(tempDir(t, 'pi-export-'), 'cycle.txt');
  writeFileSync(file, exported.text);
  const target = await startServer(t, { 'in-memory': true });
  const imported = await run(t, ['import', file, '--port', String(target.port)]);
  assert.equal(imported.code, 1);
  assert.match(imported.stderr, /cycle: a, b depend on each other/);
  assert.match(imported.stderr, /not sent either: 1 package depending on the cycle/);
  assert.equal((await exportOf(target, 'homebrew')).text, 'd:\n');
});

test('a broken line is reported with its line number, the rest loads, and --dry-run only checks', async (t) => {
  const file = join(tempDir(t, 'pi-import-'), 'broken.txt');
  writeFileSync(file, 'zlib:\nhttp: zlib tls\n\nnot a line\nbad!: zlib\ncurl: http bad\n');
  const dry = await run(t, ['import', file, '--dry-run']);
  assert.equal(dry.code, 1);
  assert.match(dry.stderr, /broken\.txt:4: expected "name: dep1 dep2 \.\.\."/);
  assert.match(dry.stderr, /broken\.txt:5: "bad!" is not a valid package name/);
  assert.match(
    dry.stdout,
    /^import --dry-run: 5 packages \(homebrew, 2 only named as dependencies\), 2 broken lines, 0 packages held by cycles; 5 would be sent\n$/,
  );

  const target = await startServer(t, { 'in-memory': true });
  const imported = await run(t, ['import', file, '--port', String(target.port)]);
  assert.equal(imported.code, 1);
  assert.match(imported.stdout, /^import: 5 indexed, 0 failed, 2 broken lines, 0 packages held by cycles; /);
  assert.equal((await exportOf(target, 'homebrew')).text, 'bad:\ntls:\nzlib:\nhttp: tls zlib\ncurl: bad http\n');
});

test('a dependency whose own line is broken is not invented: its dependents are refused and named', async (t) => {
  const file = join(tempDir(t, 'pi-import-'), 'broken.jsonl');
  writeFileSync(file, '{"name":"zlib"}\n{"name":"tls","dependencies":["zlib","tls"]}\n{"name":"http","dependencies":["tls"]}\n');
  const target = await startServer(t, { 'in-memory': true });
  const imported = await run(t, ['import', file, '--port', String(target.port)]);
  assert.equal(imported.code, 1);
  assert.match(imported.stderr, /broken\.jsonl:2: "tls" depends on itself/);
  assert.match(imported.stderr, /refused by the server: http \(FAIL\)/);
  assert.match(imported.stdout, /^import: 1 indexed, 1 failed, 1 broken line, /);
});

test('export refuses an unknown format with 400 naming it; import refuses a missing file with 2', async (t) => {
  const server = await startServer(t, { 'in-memory': true });
  const response = await fetch(`${server.admin}/v1/export?format=csv`);
  assert.equal(response.status, 400);
  assert.deepEqual(await response.json(), { error: 'bad-request', parameter: 'format', message: 'format must be homebrew or jsonl, got "csv"' });
  const missing = await run(t, ['import', join(tempDir(t, 'pi-import-'), 'nothing.txt'), '--dry-run']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nothing\.txt: no such file/);
});
