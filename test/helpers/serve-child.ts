/**
 * Runs the built `package-indexer serve` as a child process, as a user would, for the tests that
 * need a real process: restarts, kill -9, locks held by another process, refusals with exit codes.
 * The child listens on 127.0.0.1 port 0 with the admin port off; its port comes from its log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { MAIN_SCRIPT, portOf } from '../../src/client/child-server.js';
import { TIMED_OUT, withTimeout } from '../../src/with-timeout.js';

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
  /** The child logs elsewhere than stdout (syslog): find its listening port in /proc instead (Linux). */
  readonly logsElsewhere?: boolean;
  /** Lowers the child's limit on open files (`ulimit -n` in a shell that then runs it). */
  readonly openFilesLimit?: number;
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

function launch(t: TestContext, args: readonly string[], options: ServeOptions): { child: ChildProcess; finished: Promise<Finished>; stderr: () => string } {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PACKAGE_INDEXER_')) env[key] = value;
  }
  const identity = options.unprivileged === true && RUNNING_AS_ROOT ? { uid: 65534, gid: 65534 } : {};
  const command = [process.execPath, MAIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--admin-port', 'off', ...args];
  // sh -c 'ulimit -n "$0" && exec "$@"' LIMIT node ...: exec keeps the pid, so kill reaches node
  const [file, ...argv] = options.openFilesLimit === undefined
    ? command
    : ['/bin/sh', '-c', 'ulimit -n "$0" && exec "$@"', String(options.openFilesLimit), ...command];
  const child = spawn(file as string, argv, {
    env,
    cwd: os.tmpdir(),
    stdio: ['ignore', 'pipe', 'pipe'],
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

/** Starts `serve` and resolves once it listens; rejects with its output if it exits or stalls first. */
export async function startServe(t: TestContext, args: readonly string[], options: ServeOptions = {}): Promise<ServeChild> {
  const { child, finished, stderr } = launch(t, args, options);
  const logs: Array<Record<string, unknown>> = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('serve did not listen in time')), options.timeoutMs ?? 15_000);
    const poll = options.logsElsewhere === true ? setInterval(() => {
      const listening = listeningPortOf(child.pid as number);
      if (listening === undefined) return;
      clearInterval(poll);
      clearTimeout(timer);
      resolve(listening);
    }, 20) : undefined;
    void finished.then((result) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`serve exited with code ${String(result.code)} before listening: ${result.stderr}`));
    });
    let pending = '';
    child.stdout?.on('data', (text: string) => {
      pending += text;
      for (let at = pending.indexOf('\n'); at >= 0; at = pending.indexOf('\n')) {
        const text = pending.slice(0, at);
        pending = pending.slice(at + 1);
        const line = parseLogLine(text);
        if (line !== undefined) logs.push(line);
        const listening = portOf(text);
        if (listening !== undefined) {
          clearTimeout(timer);
          resolve(listening);
        }
      }
    });
  });
  return { pid: child.pid as number, port, logs, finished, stderr, kill: (signal) => child.kill(signal) };
}

/** Runs `serve` expecting it to refuse to start; resolves with how it exited. */
export async function serveUntilExit(t: TestContext, args: readonly string[], options: ServeOptions = {}): Promise<Finished> {
  const { child, finished } = launch(t, args, options);
  const result = await withTimeout(finished, options.timeoutMs ?? 15_000);
  if (result !== TIMED_OUT) return result;
  child.kill('SIGKILL');
  throw new Error('serve did not exit in time');
}

const TCP_LISTEN = '0A';

/**
 * The port of the one IPv4 TCP socket a process listens on, from /proc: its socket inodes among
 * its file descriptors, matched with the listening sockets of its network namespace.
 */
export function listeningPortOf(pid: number): number | undefined {
  let inodes: Set<string>;
  let table: string;
  try {
    inodes = new Set(fs.readdirSync(`/proc/${pid}/fd`).map((fd) => /^socket:\[(\d+)\]$/.exec(readLinkOrEmpty(`/proc/${pid}/fd/${fd}`))?.[1] ?? ''));
    table = fs.readFileSync(`/proc/${pid}/net/tcp`, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of table.split('\n').slice(1)) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    const fields = line.trim().split(/\s+/);
    const [, local = '', , state, , , , , , inode = ''] = fields;
    if (state === TCP_LISTEN && inodes.has(inode)) return Number.parseInt(local.split(':')[1] ?? '', 16);
  }
  return undefined;
}

function readLinkOrEmpty(file: string): string {
  try {
    return fs.readlinkSync(file);
  } catch {
    return '';
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
