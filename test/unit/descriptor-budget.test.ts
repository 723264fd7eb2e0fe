/**
 * The startup arithmetic of file descriptors: what the limits need, and the process's own limit
 * as /proc/self/limits states it (soft limit first), or nothing where it cannot be read.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { DESCRIPTOR_MARGIN, descriptorBudget, readOpenFilesLimit } from '../../src/cli/descriptor-budget.js';
import { resolveConfig } from '../../src/config.js';

function limitsFile(t: TestContext, openFilesLine: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pi-limits-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'limits');
  fs.writeFileSync(
    file,
    [
      'Limit                     Soft Limit           Hard Limit           Units     ',
      'Max processes             63704                63704                processes ',
      openFilesLine,
      'Max locked memory         8388608              8388608              bytes     ',
    ].join('\n'),
  );
  return file;
}

test('the open files limit is the soft limit of /proc/self/limits', (t) => {
  assert.equal(readOpenFilesLimit(limitsFile(t, 'Max open files            1024                 524288               files     ')), 1024);
});

test('an unlimited or unreadable open files limit is not a number to compare with', (t) => {
  assert.equal(readOpenFilesLimit(limitsFile(t, 'Max open files            unlimited            unlimited            files     ')), undefined);
  assert.equal(readOpenFilesLimit(path.join(os.tmpdir(), 'pi-no-such-dir', 'limits')), undefined);
});

test('the budget adds both connection limits, the admin limit, the store and a margin', () => {
  const flags = { 'connection-limit': '100', 'waiting-limit': '10', 'admin-connection-limit': '5' };
  assert.equal(descriptorBudget(resolveConfig({ ...flags, 'in-memory': true }, {})).total, 115 + DESCRIPTOR_MARGIN);
  assert.equal(descriptorBudget(resolveConfig({ ...flags, 'in-memory': true, 'admin-port': 'off' }, {})).total, 110 + DESCRIPTOR_MARGIN);
  assert.equal(descriptorBudget(resolveConfig({ ...flags, 'database-url': 'postgres://db/x', 'pool-size': '7' }, {})).total, 122 + DESCRIPTOR_MARGIN);
  assert.ok(descriptorBudget(resolveConfig(flags, {})).store > 0, 'the SQLite store holds files');
});
