/**
 * Export and snapshot with PostgreSQL: the same bytes as the embedded store gives for the same
 * index, and a snapshot file that an embedded server opens as that index.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startIndexer } from '../../src/cli/indexer.js';
import { resolveConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { startPostgresIndexer, startTestPostgres, type TestPostgres } from '../helpers/postgres-harness.js';
import { run } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/serve-child.js';

let db: TestPostgres;
before(async () => {
  db = await startTestPostgres();
});
after(() => db?.close());

const DUMP = 'zlib:\ncrypto:\ntls: crypto\nhttp: tls zlib\n@scope/a:b: http zlib\nlog:\n';

test('PostgreSQL exports what was imported in dependency order, and its snapshot opens in an embedded server', async (t) => {
  const indexer = await startPostgresIndexer(t, await db.createDatabase());
  const admin = `http://127.0.0.1:${indexer.adminAddress?.port}`;
  const dir = tempDir(t, 'pi-pg-export-');
  const file = join(dir, 'dump.txt');
  writeFileSync(file, DUMP);
  const imported = await run(t, ['import', file, '--targets', `127.0.0.1:${indexer.address.port}`]);
  assert.equal(imported.code, 0, imported.stderr);
  const expected = 'crypto:\nlog:\nzlib:\ntls: crypto\nhttp: tls zlib\n@scope/a:b: http zlib\n';
  assert.equal(await (await fetch(`${admin}/v1/export`)).text(), expected);

  const saved = await run(t, ['backup', '--out', join(dir, 'index.db'), '--admin', admin]);
  assert.equal(saved.code, 0, saved.stderr);
  const embedded = await startIndexer(resolveConfig({ port: '0', host: '127.0.0.1', 'admin-port': '0', 'data-dir': dir }, {}), silentLogger());
  t.after(() => embedded.stop());
  assert.equal(await (await fetch(`http://127.0.0.1:${embedded.adminAddress?.port}/v1/export`)).text(), expected);
});
