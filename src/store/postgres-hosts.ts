/**
 * Finds the server that takes writes among the hosts of a multi-host URL
 * (`postgres://h1:5432,h2:5432/db`), as libpq's `target_session_attrs=read-write` does, for a
 * database that fails over: after the primary dies and a standby is promoted, new connections go
 * to the new primary without a restart.
 *
 * Not the client library's own multi-host support. `postgres` 3.4.9 judges `read-write` by the
 * `default_transaction_read_only` a server reports at login, which PostgreSQL 14 and later report
 * as `off` on a hot standby too: it takes a standby for the primary, and with a standby listed
 * first every write fails (`test/integration/postgres-failover.test.ts` shows ours does not). And
 * while no host accepts a connection it tries them again with no pause, holding the statement,
 * which it runs whenever one does, however late: a command already answered ERROR could take
 * effect long after. Here one pass over the hosts either finds the writable one
 * (`transaction_read_only` is `off`) or fails the connection before anything is sent: the command
 * gets ERROR, and the health probe (postgres-health.ts) is what tries again, with its pauses.
 *
 * The library gets a socket already connected to the server found last (its `socket` option) and
 * the single-host URL of the first host, which it uses for everything but dialling. A failure with
 * no SQLSTATE, or a read-only refusal (25006), makes the finding stale; the next connection looks
 * again, from the first host.
 */
import net from 'node:net';
import postgres from 'postgres';
import { TIMED_OUT, withTimeout } from '../with-timeout.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const DEFAULT_PORT = 5432;

/** The hosts of a URL's authority (`h1:5432,[::1]:5433,h3`), in order. */
export function hostPortsOf(authorityHosts: readonly string[]): HostPort[] {
  return authorityHosts.map((item) => {
    const [, bracketed, plain, port] = /^(?:\[([^\]]*)\]|([^:]*))(?::(\d+))?$/.exec(item) ?? [];
    return { host: decodeURIComponent(bracketed ?? plain ?? item), port: port === undefined ? DEFAULT_PORT : Number(port) };
  });
}

export class WritableHostFinder {
  #hosts: readonly HostPort[];
  #urlOf: (host: HostPort) => string;
  #clientOptions: postgres.Options<Record<string, never>>;
  #connectTimeoutMs: number;
  #found: HostPort | undefined;
  #finding: Promise<HostPort> | undefined;

  /**
   * @param urlOf the single-host URL of one of the hosts
   * @param clientOptions the session settings the pool's connections carry
   */
  constructor(hosts: readonly HostPort[], urlOf: (host: HostPort) => string, clientOptions: postgres.Options<Record<string, never>>, connectTimeoutMs: number) {
    this.#hosts = hosts;
    this.#urlOf = urlOf;
    this.#clientOptions = clientOptions;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /**
   * For the library's `socket` option: a socket connected to the writable server, or, when there
   * is none, one that fails with the reason. Never a rejection: the library leaves a connection
   * whose socket option threw stuck as "connecting" for good, and the pool shrinks by one each time.
   */
  readonly connect = async (): Promise<net.Socket> => {
    try {
      return await openSocket(this.#found ?? (await this.#find()), this.#connectTimeoutMs);
    } catch (error) {
      this.stale();
      const reason = error instanceof Error ? error : new Error(String(error));
      const failed = new net.Socket();
      // fails at the library's first write (its startup message), which its error handler turns into
      // the statement's failure and its close handler into a free connection. Failing any earlier
      // leaves that message queued, unsent, in front of the next socket's
      failed._write = (_chunk, _encoding, callback) => callback(reason);
      return failed;
    }
  };

  /** The server found may no longer take writes: the next connection looks again. */
  stale(): void {
    this.#found = undefined;
  }

  /** One pass over the hosts, in order; concurrent callers share it. */
  #find(): Promise<HostPort> {
    this.#finding ??= this.#firstWritable().finally(() => {
      this.#finding = undefined;
    });
    return this.#finding;
  }

  async #firstWritable(): Promise<HostPort> {
    const refusals: string[] = [];
    for (const host of this.#hosts) {
      try {
        if (await this.#takesWrites(host)) {
          this.#found = host;
          return host;
        }
        refusals.push(`${host.host}:${host.port} is read-only`);
      } catch (error) {
        refusals.push(`${host.host}:${host.port}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    throw new Error(`no server takes writes (${refusals.join('; ')})`);
  }

  async #takesWrites(host: HostPort): Promise<boolean> {
    const sql = postgres(this.#urlOf(host), { ...this.#clientOptions, max: 1, fetch_types: false });
    try {
      const rows = sql.unsafe("SELECT current_setting('transaction_read_only') AS read_only").execute();
      const result = await withTimeout(rows, this.#connectTimeoutMs);
      if (result === TIMED_OUT) throw new Error(`no answer within ${this.#connectTimeoutMs} ms`);
      return result[0]?.['read_only'] === 'off';
    } finally {
      void sql.end({ timeout: 0 });
    }
  }
}

/**
 * Connected, and labelled as the library labels the sockets it opens: it names the host in TLS
 * (the server name a certificate is checked against, with sslmode=verify-full) and in its errors.
 */
function openSocket({ host, port }: HostPort, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = Object.assign(net.connect({ host, port }), { host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no connection to ${host}:${port} within ${timeoutMs} ms`)));
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** How the pool reaches the database: the URL the library gets, and the finder when there are several hosts. */
export interface Route {
  readonly url: string;
  readonly finder: WritableHostFinder | undefined;
}

/**
 * A single-host URL goes to the library as it is. A multi-host one becomes the URL of whichever
 * host the finder picks (the library dials nothing itself: the finder's socket goes there).
 */
export function routeToWritable(
  url: string,
  hosts: readonly string[],
  clientOptions: postgres.Options<Record<string, never>>,
  connectTimeoutMs: number,
): Route {
  if (hosts.length <= 1) return { url, finder: undefined };
  const [, scheme = '', authority = '', rest = ''] = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url) ?? [];
  const userInfo = authority.slice(0, authority.lastIndexOf('@') + 1);
  const urlOf = (host: HostPort, tail: string): string => `${scheme}${userInfo}${host.host.includes(':') ? `[${host.host}]` : host.host}:${host.port}${tail}`;
  const parsed = hostPortsOf(hosts);
  // the finder asks each server itself; the library's own check is left out (see the opening comment)
  const withoutTarget = rest.replace(/([?&])target_session_attrs=[^&#]*&?/, '$1').replace(/[?&]$/, '');
  const finder = new WritableHostFinder(parsed, (host) => urlOf(host, withoutTarget), clientOptions, connectTimeoutMs);
  return { url: urlOf(parsed[0] as HostPort, withoutTarget), finder };
}
