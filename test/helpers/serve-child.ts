/**
 * Runs the built `package-indexer serve` as a child process, as a user would, for the tests that
 * need a real process: restarts, kill -9, locks held by another process, refusals with exit codes.
 * The child listens on 127.0.0.1 port 0 with the admin port off; it reports its port over an IPC
 * channel, as it does to bench, so any log level and any log destination work.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { parseCommandArgs } from '../../src/cli/command.js';
import { serveCommand } from '../../src/cli/commands.js';
import { MAIN_SCRIPT, waitForListening } from '../../src/client/child-server.js';
import { resolveConfig } from '../../src/config.js';
import { waitFor } from './server-harness.js';
import { TIMED_OUT, withTimeout } from '../../src/with-timeout.js';

/** What every child gets before the test's own arguments, which may override them. */
const DEFAULT_ARGS = ['--port', '0', '--host', '127.0.0.1', '--admin-port', 'off'];

/** The built executable, dist/src/cli/main.js. */
export const MAIN = MAIN_SCRIPT;

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ServeChild {
  readonly pid: number;
  readonly port: number;
  /** The admin port, unless it is off. */
  readonly adminPort: number | undefined;
  /** The JSON log lines printed so far. */
  readonly logs: ReadonlyArray<Record<string, unknown>>;
  readonly finished: Promise<Finished>;
  /** What it wrote on stderr so far. */
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
}

export interface ServeOptions {
  /** Run as the unprivileged user `nobody` when the tests run as root (root ignores file modes). */
  readonly unprivileged?: boolean;
  readonly timeoutMs?: number;
  /** Lowers the child's limit on open files (`ulimit -n` in a shell that then runs it). */
  readonly openFilesLimit?: number;
  /** Options for node itself, before the script (`--inspect-port=N`). */
  readonly nodeArgs?: readonly string[];
}

/** True when the tests run as root, so a child must drop to `nobody` to be denied anything. */
export const RUNNING_AS_ROOT = process.getuid?.() === 0;

/** A temporary directory that the unprivileged child user can reach, removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'pi-durable-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  t.after(() => {
    makeWritable(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

function makeWritable(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isDirectory()) fs.chmodSync(path.join(entry.parentPath, entry.name), 0o755);
  }
}

interface Launched {
  readonly child: ChildProcess;
  readonly finished: Promise<Finished>;
  /** What it printed on stderr so far. */
  readonly stderr: () => string;
}

function launch(t: TestContext, args: readonly string[], options: ServeOptions): Launched {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PACKAGE_INDEXER_')) env[key] = value;
  }
  const identity = options.unprivileged === true && RUNNING_AS_ROOT ? { uid: 65534, gid: 65534 } : {};
  const command = [process.execPath, ...(options.nodeArgs ?? []), MAIN, 'serve', ...DEFAULT_ARGS, ...args];
  // sh -c 'ulimit -n "$0" && exec "$@"' LIMIT node ...: exec keeps the pid, so kill reaches node
  const [file, ...argv] =
    options.openFilesLimit === undefined ? command : ['/bin/sh', '-c', 'ulimit -n "$0" && exec "$@"', String(options.openFilesLimit), ...command];
  const child = spawn(file as string, argv, {
    env,
    cwd: os.tmpdir(),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    ...identity,
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const finished = new Promise<Finished>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, finished, stderr: () => stderr };
}

/** Starts `serve` and resolves once it listens; rejects with its stderr if it exits or stalls first. */
export async function startServe(t: TestContext, args: readonly string[], options: ServeOptions = {}): Promise<ServeChild> {
  const { child, finished, stderr } = launch(t, args, options);
  const logs: Array<Record<string, unknown>> = [];
  let pending = '';
  child.stdout?.on('data', (text: string) => {
    pending += text;
    for (let at = pending.indexOf('\n'); at >= 0; at = pending.indexOf('\n')) {
      const line = parseLogLine(pending.slice(0, at));
      pending = pending.slice(at + 1);
      if (line !== undefined) logs.push(line);
    }
  });
  const timeoutMs = options.timeoutMs ?? 15_000;
  const { address, adminAddress } = await waitForListening(child, timeoutMs, stderr);
  // pino writes stdout asynchronously, so the message may overtake the startup lines; when they go
  // to stdout, wait for the listening line, after which `logs` holds every line before it
  if (printsListeningLine(args)) await waitFor(() => logs.some((line) => line['msg'] === 'package-indexer listening'), timeoutMs, 'the listening log line');
  return { pid: child.pid as number, port: address.port, adminPort: adminAddress?.port, logs, finished, stderr, kill: (signal) => child.kill(signal) };
}

/** Runs `serve` expecting it to refuse to start; resolves with how it exited. */
export async function serveUntilExit(t: TestContext, args: readonly string[], options: ServeOptions = {}): Promise<Finished> {
  const { child, finished } = launch(t, args, options);
  const result = await withTimeout(finished, options.timeoutMs ?? 15_000);
  if (result !== TIMED_OUT) return result;
  child.kill('SIGKILL');
  throw new Error('serve did not exit in time');
}

/** Whether serve with these arguments logs its startup to stdout at info level or finer. */
function printsListeningLine(args: readonly string[]): boolean {
  try {
    const config = resolveConfig(parseCommandArgs(serveCommand, [...DEFAULT_ARGS, ...args]).values, {});
    return config.logDestination.transport === 'stdout' && ['info', 'debug', 'trace'].includes(config.logLevel);
  } catch {
    return false; // it refuses these arguments and will not start
  }
}

function parseLogLine(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
