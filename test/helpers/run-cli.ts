/**
 * Runs the built `package-indexer` as a user would, with a clean environment, and collects how it
 * exits; and ports for tests that need one free or one taken.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { MAIN, type Finished } from './serve-child.js';

/** The caller's environment without any PACKAGE_INDEXER_ setting, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PACKAGE_INDEXER_')) env[key] = value;
  }
  return { ...env, ...extra };
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

/** Runs the executable with `args`, `input` on its stdin, and collects how it exits. */
export async function run(
  t: TestContext,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<Finished> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: options.env ?? cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'], cwd: options.cwd });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const done = finished(child, options.timeoutMs);
  child.stdin?.end(options.input ?? '');
  return done;
}

export function assertOneLine(text: string): void {
  assert.equal(text.trimEnd().split('\n').length, 1, `expected one line, got ${JSON.stringify(text)}`);
}

/** A port nothing listens on: one the kernel just handed out and we closed again. */
export async function closedPort(): Promise<number> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const address = listener.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  return address.port;
}

/** A port on 127.0.0.1 that a listener of this process holds until the test ends. */
export async function holdPort(t: TestContext): Promise<number> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => listener.close(() => resolve())));
  const address = listener.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}
