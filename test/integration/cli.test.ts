/**
 * The built executable as a user runs it: exit codes, one-line errors naming the bad setting or
 * port, `serve` found through its IPC report, `client`, `check` and `bench` against it, and SIGTERM.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { RawClient } from '../helpers/server-harness.js';
import { assertOneLine, cleanEnv, closedPort, holdPort, run } from '../helpers/run-cli.js';
import { STORE_FILE_NAME } from '../../src/store/sqlite-file.js';
import { startServe, tempDir } from '../helpers/serve-child.js';

describe('package-indexer usage and configuration errors', () => {
  test('serve exits 2 with one line naming PACKAGE_INDEXER_PORT when it is invalid', async (t) => {
    const result = await run(t, ['serve', '--in-memory', '--admin-port', 'off'], { env: cleanEnv({ PACKAGE_INDEXER_PORT: 'eighty' }) });
    assert.equal(result.code, 2);
    assertOneLine(result.stderr);
    assert.ok(result.stderr.includes('PACKAGE_INDEXER_PORT'), result.stderr);
  });

  test('serve exits 2 with one line naming --connection-limit when it is invalid', async (t) => {
    const result = await run(t, ['serve', '--in-memory', '--admin-port', 'off', '--connection-limit', '0']);
    assert.equal(result.code, 2);
    assertOneLine(result.stderr);
    assert.ok(result.stderr.includes('--connection-limit'), result.stderr);
  });

  test('serve names an unreachable database without its password, in the URL or its query', async (t) => {
    const url = `postgres://:s3cret@127.0.0.1:${await closedPort()}/index?password=s3cr2`;
    const result = await run(t, ['serve', '--admin-port', 'off', '--database-url', url]);
    assert.equal(result.code, 1);
    assertOneLine(result.stderr);
    assert.ok(result.stderr.includes('127.0.0.1'), result.stderr);
    assert.ok(!`${result.stdout}${result.stderr}`.includes('s3cr'), result.stderr);
  });

  test('a usage error that quotes a database URL shows it without its password', async (t) => {
    const result = await run(t, ['serve', '--in-memory', 'postgres://u:s3cret@db/x']);
    assert.equal(result.code, 2);
    assertOneLine(result.stderr);
    assert.ok(!result.stderr.includes('s3cret'), result.stderr);
  });

  test('serve exits 4 with one line naming --port and the port when another process holds it', async (t) => {
    const holder = await holdPort(t);
    const result = await run(t, ['serve', '--in-memory', '--admin-port', 'off', '--host', '127.0.0.1', '--port', String(holder)]);
    assert.equal(result.code, 4, result.stderr);
    assertOneLine(result.stderr);
    assert.ok(result.stderr.includes(`--port ${holder}`), result.stderr);
  });

  test('serve exits 4 with one line naming PACKAGE_INDEXER_ADMIN_PORT when another process holds the admin port', async (t) => {
    const holder = await holdPort(t);
    const env = cleanEnv({ PACKAGE_INDEXER_ADMIN_PORT: String(holder) });
    const result = await run(t, ['serve', '--in-memory', '--port', '0', '--host', '127.0.0.1'], { env });
    assert.equal(result.code, 4, result.stderr);
    assertOneLine(result.stderr);
    assert.ok(result.stderr.includes(`PACKAGE_INDEXER_ADMIN_PORT ${holder}`), result.stderr);
  });

  test('serve exits 4 with one line naming --host when no interface has its address', async (t) => {
    // 192.0.2.0/24 is reserved for documentation (RFC 5737): no machine has it
    const result = await run(t, ['serve', '--in-memory', '--admin-port', 'off', '--port', '0', '--host', '192.0.2.1']);
    assert.equal(result.code, 4, result.stderr);
    assertOneLine(result.stderr);
    assert.ok(result.stderr.includes('--host "192.0.2.1"'), result.stderr);
  });

  test('serve exits 2 with one line naming PACKAGE_INDEXER_HOST when it is blank', async (t) => {
    const result = await run(t, ['serve', '--in-memory', '--admin-port', 'off', '--port', '0'], { env: cleanEnv({ PACKAGE_INDEXER_HOST: ' ' }) });
    assert.equal(result.code, 2, result.stderr);
    assertOneLine(result.stderr);
    assert.ok(result.stderr.includes('PACKAGE_INDEXER_HOST'), result.stderr);
  });

  test('serve exits 2 when the admin port is OFF, saying the word it takes is off', async (t) => {
    const result = await run(t, ['serve', '--in-memory', '--port', '0'], { env: cleanEnv({ PACKAGE_INDEXER_ADMIN_PORT: 'OFF' }) });
    assert.equal(result.code, 2, result.stderr);
    assertOneLine(result.stderr);
    assert.ok(result.stderr.includes('PACKAGE_INDEXER_ADMIN_PORT'), result.stderr);
    assert.match(result.stderr, /\boff\b/);
  });

  test('an unknown command exits 2', async (t) => {
    const result = await run(t, ['frobnicate']);
    assert.equal(result.code, 2);
    assert.notEqual(result.stderr, '');
  });

  test('client exits 2 with one line when a request argument holds a line feed', async (t) => {
    const result = await run(t, ['client', '--port', String(await closedPort()), 'QUERY|a|\nQUERY|b|']);
    assert.equal(result.code, 2);
    assertOneLine(result.stderr);
    assert.equal(result.stdout, '');
  });

  test('client exits 1 with one line when nothing listens on the port', async (t) => {
    const result = await run(t, ['client', '--port', String(await closedPort()), 'QUERY|a|']);
    assert.equal(result.code, 1);
    assertOneLine(result.stderr);
    assert.equal(result.stdout, '');
  });
});

describe('package-indexer serve and client', () => {
  test('client prints the reply to each line given as an argument and exits 0', async (t) => {
    const { port } = await startServe(t, ['--in-memory']);
    const result = await run(t, ['client', '--port', String(port), 'INDEX|a|', 'INDEX|b|a', 'QUERY|c|', 'REMOVE|a|', 'BLINDEX|x|']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'OK\nOK\nFAIL\nFAIL\nERROR\n');
  });

  test('client reads lines from stdin when given none and exits 0', async (t) => {
    const { port } = await startServe(t, ['--in-memory']);
    const result = await run(t, ['client', '--host', '127.0.0.1', '--port', String(port)], { input: 'INDEX|gmp|\nQUERY|gmp|\nQUERY|isl|\n' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'OK\nOK\nFAIL\n');
  });

  test('a serve child that logs only warnings is found and answers', async (t) => {
    const serve = await startServe(t, ['--in-memory', '--log-level', 'warn']);
    const client = await RawClient.connect(t, serve.port);
    assert.deepEqual(await client.exchange('INDEX|a|'), ['OK']);
    assert.ok(!serve.logs.some((line) => line['msg'] === 'package-indexer listening'), 'the listening line is an info line');
  });

  test('serve exits 0 on SIGTERM, closing open connections first', { timeout: 20_000 }, async (t) => {
    const serve = await startServe(t, ['--in-memory']);
    const open = await RawClient.connect(t, serve.port);
    assert.deepEqual(await open.exchange('INDEX|a|'), ['OK']);
    serve.kill('SIGTERM');
    const result = await serve.finished;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.signal, null);
    await open.waitForClose();
  });
});

describe('package-indexer check and bench', () => {
  test('check passes against serve with broken lines mixed in, exiting 0 with a PASS summary', async (t) => {
    const { port } = await startServe(t, ['--in-memory']);
    const result = await run(t, ['check', '--port', String(port), '--packages', '300', '--concurrency', '4', '--broken-percent', '5']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.startsWith('PASS:'), result.stdout);
  });

  test('bench --spawn-server passes --server-args to the serve it starts, finds it at any log level, and prints its figures as JSON', async (t) => {
    const dataDir = tempDir(t, 'pi-bench-');
    const args = ['--packages', '200', '--connections', '2', '--pipeline', '2', '--warmup-seconds', '0', '--duration-seconds', '0.3', '--json'];
    const result = await run(t, ['bench', '--spawn-server', '--server-args', `--data-dir ${dataDir} --log-level warn`, ...args]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(fs.existsSync(path.join(dataDir, STORE_FILE_NAME)), 'the spawned serve kept its store where --server-args said');
    const figures = JSON.parse(result.stdout) as { target: { result: { requests: number; connectionErrors: number; replies: { ERROR: number } } } };
    assert.ok(figures.target.result.requests > 0);
    assert.equal(figures.target.result.replies.ERROR, 0);
    assert.equal(figures.target.result.connectionErrors, 0);
  });

  test('bench --rounds alternates baseline and target runs and reports the median ratios', async (t) => {
    const args = ['--packages', '200', '--connections', '2', '--warmup-seconds', '0', '--duration-seconds', '0.3', '--rounds', '2', '--json'];
    const result = await run(t, ['bench', '--baseline', '--spawn-server', '--server-args', '--in-memory', ...args]);
    assert.equal(result.code, 0, result.stderr);
    const figures = JSON.parse(result.stdout) as { rounds: Array<{ ratios: { throughput: number } }>; medianRatios: { throughput: number } };
    assert.equal(figures.rounds.length, 2);
    // each run announces itself on stderr as it starts indexing, with the pid of its fresh server
    const runs = [...result.stderr.matchAll(/^(baseline|serve) \(pid (\d+)\): indexing/gm)];
    assert.deepEqual(
      runs.map(([, name]) => name),
      ['baseline', 'serve', 'baseline', 'serve'],
      result.stderr,
    );
    assert.equal(new Set(runs.map(([, , pid]) => pid)).size, 4, 'a fresh server for every run');
    const [first, second] = figures.rounds.map((round) => round.ratios.throughput);
    assert.ok(first !== undefined && second !== undefined && first > 0 && second > 0);
    assert.equal(figures.medianRatios.throughput, (first + second) / 2);
  });

  test('bench exits 2 with one line when --server-args comes without --spawn-server', async (t) => {
    const result = await run(t, ['bench', '--server-args', '--in-memory']);
    assert.equal(result.code, 2);
    assertOneLine(result.stderr);
  });
});
