/**
 * The built executable as a user runs it: exit codes, one-line errors naming the bad setting,
 * `serve` on a free port found from its startup log line, `client` against it, and SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RawClient } from '../helpers/server-harness.js';

/** dist/test/integration/cli.test.js -> dist/src/cli/main.js */
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The caller's environment without any PACKAGE_INDEXER_ setting, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PACKAGE_INDEXER_')) env[key] = value;
  }
  return { ...env, ...extra };
}

function launch(t: TestContext, args: string[], env: NodeJS.ProcessEnv = cleanEnv()): ChildProcess {
  const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

/** Collects the child's output until it exits. */
function finished(child: ChildProcess, timeoutMs = 10_000): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the process did not exit in time; stderr: ${stderr}`)), timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

async function run(t: TestContext, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Finished> {
  const child = launch(t, args, options.env);
  const done = finished(child);
  child.stdin?.end(options.input ?? '');
  return done;
}

function assertOneLine(text: string): void {
  assert.equal(text.trimEnd().split('\n').length, 1, `expected one line, got ${JSON.stringify(text)}`);
}

/** Reads the JSON log lines of `serve` until one carries the protocol listener's address. */
function listeningPort(child: ChildProcess, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => reject(new Error(`serve did not log its address; output: ${pending}`)), timeoutMs);
    const onData = (text: string): void => {
      pending += text;
      for (let at = pending.indexOf('\n'); at >= 0; at = pending.indexOf('\n')) {
        const line = pending.slice(0, at);
        pending = pending.slice(at + 1);
        const port = portOf(line);
        if (port === undefined) continue;
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(port);
        return;
      }
    };
    child.stdout?.setEncoding('utf8').on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening`)));
  });
}

function portOf(line: string): number | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: unknown; address?: { port?: unknown } };
    const isAdmin = typeof entry.msg === 'string' && entry.msg.includes('admin');
    return typeof entry.address?.port === 'number' && !isAdmin ? entry.address.port : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `serve` in memory on a free port with the admin listener off. */
async function startServe(t: TestContext): Promise<{ child: ChildProcess; port: number }> {
  const child = launch(t, ['serve', '--port', '0', '--host', '127.0.0.1', '--in-memory', '--admin-port', 'off', '--log-level', 'info']);
  child.stderr?.resume();
  const port = await listeningPort(child);
  return { child, port };
}

/** A port nothing listens on: one the kernel just handed out and we closed again. */
async function closedPort(): Promise<number> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const address = listener.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  return address.port;
}

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
    const { port } = await startServe(t);
    const result = await run(t, ['client', '--port', String(port), 'INDEX|a|', 'INDEX|b|a', 'QUERY|c|', 'REMOVE|a|', 'BLINDEX|x|']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'OK\nOK\nFAIL\nFAIL\nERROR\n');
  });

  test('client reads lines from stdin when given none and exits 0', async (t) => {
    const { port } = await startServe(t);
    const result = await run(t, ['client', '--host', '127.0.0.1', '--port', String(port)], { input: 'INDEX|gmp|\nQUERY|gmp|\nQUERY|isl|\n' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'OK\nOK\nFAIL\n');
  });

  test('serve exits 0 on SIGTERM, closing open connections first', async (t) => {
    const { child, port } = await startServe(t);
    const open = await RawClient.connect(t, port);
    assert.deepEqual(await open.exchange('INDEX|a|'), ['OK']);
    const exit = finished(child);
    child.kill('SIGTERM');
    const result = await exit;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.signal, null);
    await open.waitForClose();
  });
});
