/**
 * The little the PostgreSQL backend needs from a client library: prepared statements on a pool,
 * one transaction for migrations, and the session settings every pooled connection must carry.
 * Keeping it this narrow let bench/postgres-clients.ts run the same backend on `pg` and on
 * `postgres` (porsager) to choose between them; `postgres` is the one wired here.
 */
import type { Socket } from 'node:net';
import postgres from 'postgres';
import { QueryTimeoutError } from '../errors.js';
import { hasSqlState } from './postgres-health.js';
import { routeToWritable, type Route } from './postgres-hosts.js';
import { TIMED_OUT, withTimeout } from '../with-timeout.js';

export type Row = Record<string, unknown>;
export type Query = (text: string, values?: readonly unknown[]) => Promise<Row[]>;

export interface SqlPool {
  /**
   * Runs one statement on any pooled connection, as a prepared statement there. `name` is for
   * clients that take one (`pg` prepares the statement once per connection under it).
   */
  query(name: string, text: string, values: readonly unknown[]): Promise<Row[]>;
  /** Runs `work` in one transaction on one connection; rolls back if it throws. */
  transaction<T>(work: (query: Query) => Promise<T>): Promise<T>;
  /**
   * A connection of its own that LISTENs on `channel`, calling `onNotify` with each payload, and
   * `onListening` each time the LISTEN is in place (notifications sent while it was not are lost).
   * A broken connection is replaced after a pause. Its statements never wait behind the pool's.
   */
  listen(channel: string, onNotify: (payload: string) => void, onListening: () => void): ListeningSession;
  /** Closes every connection. */
  end(): Promise<void>;
}

export interface ListeningSession {
  /** Runs one statement on the listening connection. */
  query(text: string, values: readonly unknown[]): Promise<Row[]>;
  /** Stops listening and closes the connection. */
  close(): Promise<void>;
}

export interface SqlPoolOptions {
  readonly url: string;
  /** Connections at most. */
  readonly size: number;
  /** Giving up on opening a connection, in ms. */
  readonly connectTimeoutMs: number;
  /** Giving up on a statement's reply, in ms: a database that stopped answering is down. */
  readonly queryTimeoutMs: number;
}

export type SqlPoolFactory = (options: SqlPoolOptions) => SqlPool;

/** How our sessions show in pg_stat_activity. */
export const APPLICATION_NAME = 'package-indexer';

/** Pause before listening again after the listening connection broke, in ms. */
export const RELISTEN_DELAY_MS = 1_000;

/**
 * Moves the URL's own `options` (server settings for the session) out of it and appends ours:
 * statements run at REPEATABLE READ, which the INDEX statement's correctness relies on
 * (docs/postgres.md). The clients let a URL's `options` replace a configured one, hence the move.
 * The URL is split by hand, not with `new URL`, which refuses the multi-host form
 * (`h1:5432,h2:5432`) a database that fails over is named by (postgres-hosts.ts).
 */
export function withSessionOptions(url: string): { url: string; options: string } {
  const question = url.indexOf('?');
  const base = question < 0 ? url : url.slice(0, question);
  const parameters = new URLSearchParams(question < 0 ? '' : url.slice(question + 1));
  const own = parameters.get('options') ?? '';
  parameters.delete('options');
  const query = parameters.toString();
  return { url: query === '' ? base : `${base}?${query}`, options: `${own} -c default_transaction_isolation=repeatable\\ read`.trim() };
}

/** The `host:port` items of a postgres:// URL's authority (after any user info), in order. */
export function hostsOf(url: string): string[] {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1] ?? '';
  return authority
    .slice(authority.lastIndexOf('@') + 1)
    .split(',')
    .filter((host) => host !== '');
}

/** Rejects with an error that has no SQLSTATE (so: the database is unreachable) after `ms`. */
async function rejectAfter<T>(promise: Promise<T>, ms: number): Promise<T> {
  const result = await withTimeout(promise, ms);
  if (result === TIMED_OUT) throw new QueryTimeoutError(ms);
  return result;
}

/**
 * Porsager's client: it pipelines statements that wait for a connection onto busy ones instead of
 * queueing them and spends less CPU per statement, which measured 1.2 to 1.9 times the throughput
 * of `pg` on this workload, more on a busy machine (docs/postgres.md).
 */
export const createPostgresJsPool: SqlPoolFactory = (options) => {
  const session = withSessionOptions(options.url);
  const clientOptions = {
    connect_timeout: Math.ceil(options.connectTimeoutMs / 1000),
    // the client's own reconnect backoff (up to 20 s) would hold statements instead of failing
    // them; the backend's health probe is the backoff, and it sends nothing while the database is down
    backoff: () => 0,
    onnotice: () => {},
    connection: { application_name: APPLICATION_NAME, options: session.options },
  };
  const route = routeToWritable(session.url, hostsOf(session.url), clientOptions, options.connectTimeoutMs);
  const open = (): postgres.Sql => postgres(route.url, { ...clientOptions, ...socketOption(route), max: options.size });
  let sql = open();
  /** Replaces `failed` when its login timed out; a client already replaced stays replaced, so statements that time out together renew it once. */
  const renewIfWedged = (failed: postgres.Sql, error: unknown): void => {
    if (failed !== sql || !isWedged(error)) return;
    sql = open();
    void failed.end({ timeout: 0 }).catch(() => {});
  };
  type Values = Parameters<typeof sql.unsafe>[1];
  return {
    // `postgres` names statements itself: a connection prepares a text (keyed with the types it
    // infers for the values) the first time it runs it, under a random per-connection prefix and a
    // counter, and reuses it after that; with parameters, that first run waits one extra round trip
    // to learn their types. A reconnect starts a fresh cache, and a statement the server lost or
    // must re-plan (FetchPreparedStatement, RevalidateCachedQuery) is prepared again, retried once
    async query(_name, text, values) {
      const client = sql;
      const rows = client.unsafe(text, values as Values, { prepare: true }).execute();
      return (await noticingFailover(route, rejectAfter(rows, options.queryTimeoutMs), (error) => renewIfWedged(client, error))) as unknown as Row[];
    },
    async transaction(work) {
      const run = async (tx: postgres.TransactionSql): Promise<unknown> =>
        work(async (text, values) => (await tx.unsafe(text, (values ?? []) as Values)) as unknown as Row[]);
      const client = sql;
      return (await noticingFailover(route, client.begin(run), (error) => renewIfWedged(client, error))) as Awaited<ReturnType<typeof work>>;
    },
    listen: (channel, onNotify, onListening) => listenWithPostgresJs(route, clientOptions, options, channel, onNotify, onListening),
    end: () => sql.end({ timeout: 5 }),
  };
};

/** The library's `socket` option (left out of its types) when a finder picks the host. */
function socketOption(route: Route): { socket?: () => Promise<Socket> } {
  return route.finder === undefined ? {} : { socket: route.finder.connect };
}

/**
 * A failure that may mean the primary moved (no SQLSTATE, or a read-only refusal) makes the finder
 * look again; `onError` sees every failure.
 */
async function noticingFailover<T>(route: Route, result: Promise<T>, onError: (error: unknown) => void): Promise<T> {
  try {
    return await result;
  } catch (error) {
    if (!hasSqlState(error) || error.code === '25006') route.finder?.stale();
    onError(error);
    throw error;
  }
}

/**
 * Whether the library's connection may be wedged for good, so that the client must be replaced.
 * `postgres` 3.4.9 gathers small writes and sends them from a setImmediate; a socket that closes
 * between the two leaves that immediate cancelled but not forgotten, and the bytes gathered with
 * it, so the connection never sends again: its next startup message waits behind them for an
 * immediate that will not come, and every later attempt ends in CONNECT_TIMEOUT (upstream
 * porsager/postgres#1209 and #1215). It stalled the change feed after a failover in the failover
 * test (docs/postgres.md). A server that accepts connections but does not answer a login for
 * connect_timeout ends the same way; replacing the client then costs nothing.
 */
function isWedged(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'CONNECT_TIMEOUT';
}

/**
 * A one-connection client of its own for LISTEN and the change feed's reads. Not the library's
 * `sql.listen`: that one re-listens as soon as its connection closes, which, with the reconnect
 * backoff turned off, retries in a tight loop for as long as the database is down.
 */
function listenWithPostgresJs(
  route: Route,
  clientOptions: postgres.Options<Record<string, never>>,
  options: SqlPoolOptions,
  channel: string,
  onNotify: (payload: string) => void,
  onListening: () => void,
): ListeningSession {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const relistenLater = (): void => {
    if (stopped || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void start();
    }, RELISTEN_DELAY_MS);
    timer.unref();
  };
  /** Replaces `failed` by a fresh client, if it is still the current one, and listens again on that one. */
  const replace = (failed: postgres.Sql): void => {
    if (stopped || failed !== sql) return;
    sql = open();
    void failed.end({ timeout: 0 }).catch(() => {});
    relistenLater();
  };
  const open = (): postgres.Sql => {
    // `onnotify` is the option the library's own `listen` is built on; its types leave it out
    const listenerOptions: postgres.Options<Record<string, never>> & { onnotify: (from: string, payload: string) => void } = {
      ...clientOptions,
      ...socketOption(route),
      max: 1,
      max_lifetime: null,
      onnotify: (from: string, payload: string) => {
        if (from === channel) onNotify(payload);
      },
      // A client whose connection closed is not reused: when the socket closed with a write still
      // gathered, `postgres` 3.4.9 keeps those bytes and never sends on that connection again (see
      // isWedged), and the statements sent next hang until they time out. In the failover test that
      // held the feed's reads for 15 s after the primary died. One connection: a fresh client costs nothing.
      onclose: () => replace(client),
    };
    const client = postgres(route.url, listenerOptions);
    return client;
  };
  let sql = open();
  /**
   * Unlike the pool, this client is also replaced when a statement gets no answer in time: its
   * statements are short reads, so one that hangs means a connection that will not recover by
   * itself (a host gone without a reset, until keepalive notices), and every read of the feed
   * would wait on it.
   */
  const renewIfStuck = (failed: postgres.Sql, error: unknown): void => {
    if (isWedged(error) || error instanceof QueryTimeoutError) replace(failed);
  };
  type Values = Parameters<typeof sql.unsafe>[1];
  const run = async (text: string, values: readonly unknown[], prepare: boolean): Promise<Row[]> => {
    const client = sql;
    const rows = client.unsafe(text, values as Values, { prepare }).execute();
    return (await noticingFailover(route, rejectAfter(rows, options.queryTimeoutMs), (error) => renewIfStuck(client, error))) as unknown as Row[];
  };
  const start = async (): Promise<void> => {
    try {
      await run(`LISTEN "${channel.replaceAll('"', '""')}"`, [], false);
      if (!stopped) onListening();
    } catch {
      relistenLater();
    }
  };
  void start();
  return {
    query: (text, values) => run(text, values, true),
    async close() {
      stopped = true;
      clearTimeout(timer);
      await sql.end({ timeout: 1 });
    },
  };
}
