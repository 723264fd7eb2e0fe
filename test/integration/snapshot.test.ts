/**
 * `GET /v1/snapshot` and `package-indexer backup`: while a client keeps writing, the saved file is
 * a store that `serve --data-dir` opens as it is, holding the index of one moment: everything
 * indexed before, and of the writes that went on, exactly the first so many.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
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
import { waitFor } from '../helpers/server-harness.js';

async function startServer(t: TestContext, store: { 'in-memory': true } | { 'data-dir': string }): Promise<{ port: number; admin: string }> {
  const indexer = await startIndexer(resolveConfig({ port: '0', host: '127.0.0.1', 'admin-port': '0', ...store }, {}), silentLogger());
  t.after(() => indexer.stop());
  return { port: indexer.address.port, admin: `http://127.0.0.1:${indexer.adminAddress?.port}` };
}

async function exportLines(admin: string): Promise<string[]> {
  const response = await fetch(`${admin}/v1/export`);
  assert.equal(response.status, 200);
  return (await response.text()).trimEnd().split('\n');
}

for (const mode of ['in-memory', 'sqlite'] as const) {
  test(`a backup of a ${mode} server taken while writes go on opens as the index of one moment`, async (t) => {
    const dir = tempDir(t, 'pi-snapshot-');
    const source = await startServer(t, mode === 'in-memory' ? { 'in-memory': true } : { 'data-dir': join(dir, 'source') });
    const dataset = generateDataset({ packages: 2_000, meanDeps: 3, seed: 5 });
    const client = await ProtocolClient.connect('127.0.0.1', source.port);
    t.after(() => client.close());
    assert.ok((await Promise.all(dataset.map((pkg) => client.request(encodeCommand(commandFor('INDEX', pkg)))))).every((reply) => reply === 'OK'));

    // one write at a time, each after the last one's reply: any moment holds a prefix of them
    let writes = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        assert.equal(await client.request(`INDEX|written-${writes}|${(dataset[writes % dataset.length] ?? { name: '' }).name}\n`), 'OK');
        writes++;
      }
    })();
    await waitFor(() => writes > 0, 10_000, 'a first write');
    const file = join(dir, 'backup.db');
    const saved = await run(t, ['backup', '--out', file, '--admin', source.admin]);
    writing = false;
    await writer;
    assert.equal(saved.code, 0, saved.stderr);
    assert.match(saved.stdout, /^backup: \d+ bytes saved to .*backup\.db in /);
    assert.equal(existsSync(`${file}.partial`), false);

    const restoredDir = join(dir, 'restored');
    mkdirSync(restoredDir);
    copyFileSync(file, join(restoredDir, 'index.db'));
    const restored = await startServer(t, { 'data-dir': restoredDir });
    const snapshotLines = await exportLines(restored.admin);
    const taken = snapshotLines.filter((line) => line.startsWith('written-')).length;
    const later = new Set(Array.from({ length: writes - taken }, (_, k) => `written-${taken + k}`));
    const expected = (await exportLines(source.admin)).filter((line) => !later.has(line.slice(0, line.indexOf(':'))));
    assert.deepEqual(snapshotLines, expected, `the snapshot holds the first ${taken} of ${writes} writes and nothing else changed`);
  });
}

test('backup refuses without --out, and says so when no server answers', async (t) => {
  const noOut = await run(t, ['backup']);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /--out FILE is required/);
  const file = join(tempDir(t, 'pi-snapshot-'), 'nothing.db');
  const unreachable = await run(t, ['backup', '--out', file, '--admin', 'http://127.0.0.1:1']);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /cannot reach the admin port at http:\/\/127\.0\.0\.1:1/);
  assert.equal(existsSync(file), false);
});
