/**
 * Starting on a full disk (a small tmpfs): the refusal names the file whose write failed, and the
 * failed write leaves no empty or partial file behind; once there is space the store starts whole.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { PID_FILE_NAME } from '../../src/store/sqlite-file.js';
import { RawClient } from '../helpers/server-harness.js';
import { serveUntilExit, startServe } from '../helpers/serve-child.js';
import { fillDisk, mountSmallTmpfs } from '../helpers/small-tmpfs.js';
import { assertRefusedOnOneLine, storeWith } from '../helpers/store-files.js';

describe('starting on a full disk', () => {
  test('serve is refused naming server.pid, leaves no empty pid file, and starts whole once there is space', async (t) => {
    const mountPoint = mountSmallTmpfs(t, 1024);
    if (mountPoint === undefined) return;
    const dataDir = path.join(mountPoint, 'data');
    await storeWith(dataDir, 'INDEX|a|', 'INDEX|b|a');
    const filler = path.join(mountPoint, 'filler');
    fillDisk(filler);

    const refused = await serveUntilExit(t, ['--data-dir', dataDir]);
    assertRefusedOnOneLine(refused, path.join(dataDir, PID_FILE_NAME));
    assert.deepEqual(
      fs.readdirSync(dataDir).filter((name) => name.startsWith(PID_FILE_NAME)),
      [],
      'no pid file, whole or partial, is left',
    );

    fs.rmSync(filler);
    const server = await startServe(t, ['--data-dir', dataDir]);
    const client = await RawClient.connect(t, server.port);
    assert.deepEqual(await client.exchange('QUERY|a|', 'QUERY|b|'), ['OK', 'OK']);
    assert.equal(fs.readFileSync(path.join(dataDir, PID_FILE_NAME), 'utf8'), `${server.pid}\n`);
  });
});
