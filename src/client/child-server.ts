/**
 * Starts a server as a child process on port 0 for bench: our own (`serve`) or the trivial
 * baseline. Both print a JSON line with `address.port` on stdout once they listen; that line
 * tells us where to connect. The child is stopped with SIGTERM, then SIGKILL if it lingers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ChildServerError } from '../errors.js';
import { TIMED_OUT, withTimeout } from '../with-timeout.js';

export interface ChildServer {
  readonly port: number;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** The compiled `package-indexer` executable and the baseline server, next to this module in dist/. */
export const MAIN_SCRIPT = fileURLToPath(new URL('../cli/main.js', import.meta.url));
export const BASELINE_SCRIPT = fileURLToPath(new URL('./baseline-server.js', import.meta.url));

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

/** Runs `node script ...args` and resolves once it has printed its listening port. */
export async function startChildServer(script: string, args: readonly string[]): Promise<ChildServer> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderrTail = (stderrTail + text).slice(-2000);
  });
  try {
    const port = await readPort(child, () => stderrTail);
    return { port, pid: child.pid, stop: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

function readPort(child: ChildProcess, stderrTail: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new ChildServerError(`${why}${stderrTail() === '' ? '' : `; its stderr ends with: ${stderrTail()}`}`));
    };
    const timer = setTimeout(() => fail(`the child server printed no listening port within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    const onExit = (code: number | null): void => fail(`the child server exited (code ${String(code)}) before it listened`);
    child.once('exit', onExit);
    child.stdout?.setEncoding('utf8');
    const onData = (text: string): void => {
      buffered += text;
      for (let lf = buffered.indexOf('\n'); lf >= 0; lf = buffered.indexOf('\n')) {
        const port = portOf(buffered.slice(0, lf));
        buffered = buffered.slice(lf + 1);
        if (port === undefined) continue;
        clearTimeout(timer);
        child.off('exit', onExit);
        // keep draining its logs so that it never blocks on a full pipe
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(port);
        return;
      }
    };
    child.stdout?.on('data', onData);
  });
}

/** The protocol port from `serve`'s (or the baseline's) listening log line; undefined for any other line. */
export function portOf(line: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || !('address' in parsed)) return undefined;
    const address: unknown = parsed.address;
    if (typeof address !== 'object' || address === null || !('port' in address)) return undefined;
    return typeof address.port === 'number' ? address.port : undefined;
  } catch {
    return undefined;
  }
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
