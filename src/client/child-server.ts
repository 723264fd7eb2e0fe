/**
 * Starts a server as a child process on port 0 for bench: our own (`serve`) or the trivial
 * baseline. Both send their listening address over an IPC channel once they listen, whatever
 * their log level; that tells us where to connect. The child is stopped with SIGTERM, then
 * SIGKILL if it lingers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ChildServerError } from '../errors.js';
import { TIMED_OUT, withTimeout } from '../with-timeout.js';
import { isListeningMessage, type ListeningMessage } from './listening-message.js';

export interface ChildServer {
  readonly port: number;
  /** The admin port, when the child has one. */
  readonly adminPort: number | undefined;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** The compiled `package-indexer` executable and the baseline server, next to this module in dist/. */
export const MAIN_SCRIPT = fileURLToPath(new URL('../cli/main.js', import.meta.url));
export const BASELINE_SCRIPT = fileURLToPath(new URL('./baseline-server.js', import.meta.url));

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

/** Runs `node script ...args` and resolves once it reports that it listens. */
export async function startChildServer(script: string, args: readonly string[]): Promise<ChildServer> {
  // its logs are not ours to read: only stderr is kept, to explain a failed start
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderrTail = (stderrTail + text).slice(-2000);
  });
  try {
    const { address, adminAddress } = await waitForListening(child, START_TIMEOUT_MS, () => stderrTail);
    return { port: address.port, adminPort: adminAddress?.port, pid: child.pid, stop: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/**
 * Resolves with the addresses a child spawned with an IPC channel reports once it listens;
 * rejects with a ChildServerError when it exits or stays silent for `timeoutMs` first.
 */
export function waitForListening(child: ChildProcess, timeoutMs: number, stderrTail: () => string = () => ''): Promise<ListeningMessage> {
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      clearTimeout(timer);
      child.off('close', onClose);
      child.off('message', onMessage);
    };
    const fail = (why: string): void => {
      settle();
      const tail = stderrTail();
      reject(new ChildServerError(`${why}${tail === '' ? '' : `; its stderr ends with: ${tail}`}`));
    };
    const timer = setTimeout(() => fail(`the child server reported no listening address within ${timeoutMs} ms`), timeoutMs);
    // 'close' rather than 'exit': by then its stderr has been read to the end, for the message
    const onClose = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(`the child server exited (${signal ?? `code ${String(code)}`}) before it listened`);
    const onMessage = (message: unknown): void => {
      if (!isListeningMessage(message)) return;
      settle();
      resolve(message);
    };
    child.once('close', onClose);
    child.on('message', onMessage);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  if ((await withTimeout(exited, STOP_TIMEOUT_MS)) === TIMED_OUT) {
    child.kill('SIGKILL');
    await exited;
  }
}
