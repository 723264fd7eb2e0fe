/**
 * Every setting of `serve`, its unit and default, and how flags and the environment combine
 * (a flag wins over its variable). A bad value is rejected with the name of the setting.
 */
import { ConfigError } from './errors.js';

export type FsyncMode = 'always' | 'normal';
export type LogFormat = 'json' | 'pretty';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
/** A syslog receiver: UDP datagrams, a TCP stream, or a unix stream socket. */
export type SyslogDestination =
  | { readonly transport: 'udp' | 'tcp'; readonly host: string; readonly port: number }
  | { readonly transport: 'unix'; readonly path: string };
/** Log lines on stdout, or RFC 5424 records to a syslog receiver. */
export type LogDestination = { readonly transport: 'stdout' } | SyslogDestination;

export interface Config {
  /** TCP port of the protocol listener; 0 picks a free one. @default 8080 */
  port: number;
  /** Interface of the protocol listener; '' means all interfaces. @default '' */
  host: string;
  /** Connections served at once; more wait for a slot. @default 10000 */
  connectionLimit: number;
  /** Connections that may wait for a slot; beyond this they are closed at once. @default 1000 */
  waitingLimit: number;
  /** Longest request line, in bytes; a longer one is answered ERROR. @default 65536 */
  maxLineBytes: number;
  /** A connection with no traffic for this long is closed, in ms; 0 never closes one. @default 300000 */
  idleTimeoutMs: number;
  /** A peer that reads none of our replies for this long is disconnected, in ms. @default 30000 */
  drainTimeoutMs: number;
  /** How long shutdown waits for connections to finish their lines, in ms. @default 10000 */
  shutdownTimeoutMs: number;
  /** @default 'info' */
  logLevel: LogLevel;
  /** 'json' lines on stdout, or 'pretty' for a person at a terminal. @default 'json' */
  logFormat: LogFormat;
  /** 'stdout', or a syslog receiver: udp://host:port, tcp://host:port, unix:///path/to/socket. @default 'stdout' */
  logDestination: LogDestination;
  /** Where the embedded store keeps its files. @default './data' */
  dataDir: string;
  /** Keep the index in memory only: nothing survives a restart. @default false */
  inMemory: boolean;
  /** When a commit reaches the disk: 'always' survives power loss, 'normal' a process crash. @default 'normal' */
  fsync: FsyncMode;
  /** Port of the admin HTTP listener; 0 picks a free one; null is off. @default 8081 */
  adminPort: number | null;
  /** Interface of the admin HTTP listener. @default '127.0.0.1' */
  adminHost: string;
  /** Admin connections held at once; a new one closes the oldest idle one, or is refused. @default 100 */
  adminConnectionLimit: number;
  /** Every admin request but /healthz and /readyz must carry it (Basic password or Bearer); undefined lets anyone in. @default undefined */
  adminToken: string | undefined;
  /** A postgres:// URL selects the PostgreSQL backend instead of the embedded store. @default undefined */
  databaseUrl: string | undefined;
  /** Connections in the PostgreSQL pool. @default 10 */
  poolSize: number;
  /** Commands in one PostgreSQL batch transaction at most. @default 100 */
  batchMaxCommands: number;
  /** PostgreSQL batch transactions in flight at once, each on a pooled connection (at most the pool size), and as many of the QUERY lane's (the lanes share the pool). @default 4 */
  batchesInFlight: number;
  /** Answer PostgreSQL connections that send QUERYs only in batches of their own, beside the write batches. @default false */
  queryLane: boolean;
  /** Refuse to start unless PostgreSQL commits synchronously to a standby (docs/postgres.md). @default false */
  requireSynchronousStandby: boolean;
}

export const DEFAULTS: Readonly<Config> = {
  port: 8080,
  host: '',
  connectionLimit: 10_000,
  waitingLimit: 1_000,
  maxLineBytes: 65_536,
  idleTimeoutMs: 300_000,
  drainTimeoutMs: 30_000,
  shutdownTimeoutMs: 10_000,
  logLevel: 'info',
  logFormat: 'json',
  logDestination: { transport: 'stdout' },
  dataDir: './data',
  inMemory: false,
  fsync: 'normal',
  adminPort: 8081,
  adminHost: '127.0.0.1',
  adminConnectionLimit: 100,
  adminToken: undefined,
  databaseUrl: undefined,
  poolSize: 10,
  batchMaxCommands: 100,
  batchesInFlight: 4,
  queryLane: false,
  requireSynchronousStandby: false,
};

type Parser<T> = (raw: string, setting: string) => T;
/** A parser of one word out of a list, which help shows as the setting's choices. */
type ChoiceParser<T> = Parser<T> & { readonly choices: readonly string[] };

/** How `serve --help` shows a setting. */
interface SettingDoc {
  /** Placeholder of the value in usage, e.g. `PORT`; a switch has none. */
  readonly value?: string;
  /** What it does, with its unit. */
  readonly meaning: string;
  /** The default as a user reads it, when its value alone would not say it (`''`: all interfaces). */
  readonly defaultText?: string;
}

interface Setting<K extends keyof Config> {
  readonly key: K;
  readonly flag: string;
  readonly env: string;
  /** How parseArgs reads the flag: a switch (`--in-memory`) or a flag with a value. */
  readonly type: 'boolean' | 'string';
  readonly value: string | undefined;
  readonly meaning: string;
  /** The words it takes, when it takes words. */
  readonly choices: readonly string[] | undefined;
  readonly defaultText: string;
  readonly parse: Parser<Config[K]>;
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(min: number, max: number): Parser<number> {
  return (raw, setting) => {
    const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new ConfigError(setting, `expected a whole number from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  };
}

/** Exactly one of the words, as written: like every word-valued setting, case matters. */
function oneOf<T extends string>(choices: readonly T[]): ChoiceParser<T> {
  const parse: Parser<T> = (raw, setting) => {
    if (!(choices as readonly string[]).includes(raw)) {
      throw new ConfigError(setting, `expected one of ${choices.join(', ')}, got "${raw}"`);
    }
    return raw as T;
  };
  return Object.assign(parse, { choices });
}

/** An interface to listen on: an IP address or a host name, which never holds white space. */
function listenHost(allowAll: boolean): Parser<string> {
  return (raw, setting) => {
    if (raw === '' && allowAll) return raw;
    if (raw === '' || /\s/.test(raw)) {
      throw new ConfigError(setting, `expected an IP address or host name${allowAll ? ' (or nothing, for all interfaces)' : ''}, got "${raw}"`);
    }
    return raw;
  };
}

const nonEmptyText: Parser<string> = (raw, setting) => {
  if (raw.length === 0) throw new ConfigError(setting, 'must not be empty');
  return raw;
};

const boolean: Parser<boolean> = (raw, setting) => {
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no', ''].includes(raw)) return false;
  throw new ConfigError(setting, `expected true or false, got "${raw}"`);
};

const port = integer(0, 65_535);

const optionalPort: Parser<number | null> = (raw, setting) => {
  if (raw === 'off') return null;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(setting, `expected off or a whole number from 0 to 65535, got "${raw}"`);
  return port(raw, setting);
};

/** Visible ASCII only, so that it travels unchanged in an Authorization header; '' means none. */
const adminToken: Parser<string | undefined> = (raw, setting) => {
  if (raw === '') return undefined;
  if (!/^[\x21-\x7e]{1,1024}$/.test(raw)) throw new ConfigError(setting, 'expected 1 to 1024 visible ASCII characters, no spaces');
  return raw;
};

const databaseUrl: Parser<string | undefined> = (raw, setting) => {
  if (raw === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(raw)) throw new ConfigError(setting, 'expected a postgres:// URL');
  return raw;
};

const LOG_DESTINATION_FORMS = 'stdout, udp://host:port, tcp://host:port or unix:///path/to/socket';

const logDestination: Parser<LogDestination> = (raw, setting) => {
  if (raw === 'stdout') return { transport: 'stdout' };
  if (raw.startsWith('unix://')) {
    const path = raw.slice('unix://'.length);
    if (!path.startsWith('/')) throw new ConfigError(setting, `expected an absolute socket path after unix://, like unix:///dev/log, got "${raw}"`);
    return { transport: 'unix', path };
  }
  const [, transport, host = '', portText = ''] = /^(udp|tcp):\/\/(\[[\d.:a-fA-F]+\]|[^\s/:@?#[\]]+):(\d+)$/.exec(raw) ?? [];
  if (transport !== 'udp' && transport !== 'tcp') throw new ConfigError(setting, `expected ${LOG_DESTINATION_FORMS}, got "${raw}"`);
  return { transport, host: host.replace(/^\[(.*)\]$/, '$1'), port: integer(1, 65_535)(portText, setting) };
};

function printable(value: Config[keyof Config]): string {
  if (value === undefined) return 'none';
  if (value === null) return 'off';
  return String(value);
}

function setting<K extends keyof Config>(key: K, flag: string, env: string, parse: Parser<Config[K]>, doc: SettingDoc): Setting<K> {
  return {
    key,
    flag,
    env: `PACKAGE_INDEXER_${env}`,
    type: parse === boolean ? 'boolean' : 'string',
    value: doc.value,
    meaning: doc.meaning,
    choices: 'choices' in parse ? (parse as ChoiceParser<Config[K]>).choices : undefined,
    defaultText: doc.defaultText ?? printable(DEFAULTS[key]),
    parse,
  };
}

/** Every setting of `serve`: how it is read, and what `serve --help` says of it. */
export const SETTINGS = [
  setting('port', 'port', 'PORT', port, { value: 'PORT', meaning: 'TCP port of the protocol listener; 0 picks a free one' }),
  setting('host', 'host', 'HOST', listenHost(true), {
    value: 'HOST',
    meaning: 'interface (IP address or host name) of the protocol listener',
    defaultText: 'all interfaces',
  }),
  setting('connectionLimit', 'connection-limit', 'CONNECTION_LIMIT', integer(1, 1_000_000), {
    value: 'N',
    meaning: 'connections served at once; more wait, unread, for a slot',
  }),
  setting('waitingLimit', 'waiting-limit', 'WAITING_LIMIT', integer(0, 1_000_000), {
    value: 'N',
    meaning: 'connections that may wait for a slot; beyond this they are closed at once',
  }),
  setting('maxLineBytes', 'max-line-bytes', 'MAX_LINE_BYTES', integer(64, 64 * 1024 * 1024), {
    value: 'BYTES',
    meaning: 'longest request line, in bytes; a longer one is answered ERROR',
  }),
  setting('idleTimeoutMs', 'idle-timeout-ms', 'IDLE_TIMEOUT_MS', integer(0, 2_147_483_647), {
    value: 'MS',
    meaning: 'close a connection silent this long, in ms; 0 never closes one',
  }),
  setting('drainTimeoutMs', 'drain-timeout-ms', 'DRAIN_TIMEOUT_MS', integer(1, 2_147_483_647), {
    value: 'MS',
    meaning: 'disconnect a peer that leaves its replies unread this long, in ms',
  }),
  setting('shutdownTimeoutMs', 'shutdown-timeout-ms', 'SHUTDOWN_TIMEOUT_MS', integer(0, 2_147_483_647), {
    value: 'MS',
    meaning: 'how long shutdown waits for connections to finish their lines, in ms',
  }),
  setting('logLevel', 'log-level', 'LOG_LEVEL', oneOf(LOG_LEVELS), { value: 'LEVEL', meaning: 'least severe level logged' }),
  setting('logFormat', 'log-format', 'LOG_FORMAT', oneOf<LogFormat>(['json', 'pretty']), {
    value: 'FORMAT',
    meaning: 'json lines on stdout, or pretty for a person at a terminal (needs the dev dependency pino-pretty)',
  }),
  setting('logDestination', 'log-destination', 'LOG_DESTINATION', logDestination, {
    value: 'WHERE',
    meaning: `${LOG_DESTINATION_FORMS} (a syslog receiver; unix: a stream socket)`,
    defaultText: 'stdout',
  }),
  setting('dataDir', 'data-dir', 'DATA_DIR', nonEmptyText, { value: 'DIR', meaning: 'where the embedded store keeps its files' }),
  setting('inMemory', 'in-memory', 'IN_MEMORY', boolean, {
    meaning: 'keep the index in memory only: nothing survives a restart; the variable takes true/false, 1/0 or yes/no',
  }),
  setting('fsync', 'fsync', 'FSYNC', oneOf<FsyncMode>(['always', 'normal']), {
    value: 'MODE',
    meaning: 'when a commit reaches the disk: always survives a power cut, normal a process crash',
  }),
  setting('adminPort', 'admin-port', 'ADMIN_PORT', optionalPort, {
    value: 'PORT',
    meaning: 'port of the admin HTTP listener (metrics, health, read API); 0 picks a free one; off disables it and metrics collection',
  }),
  setting('adminHost', 'admin-host', 'ADMIN_HOST', listenHost(false), {
    value: 'HOST',
    meaning: 'interface (IP address or host name) of the admin HTTP listener',
  }),
  setting('adminToken', 'admin-token', 'ADMIN_TOKEN', adminToken, {
    value: 'TOKEN',
    meaning:
      'when set, every admin request but /healthz and /readyz needs it: the password of HTTP Basic, or Authorization: Bearer (prefer the variable: a flag shows in ps)',
  }),
  setting('adminConnectionLimit', 'admin-connection-limit', 'ADMIN_CONNECTION_LIMIT', integer(1, 100_000), {
    value: 'N',
    meaning: 'admin connections held at once; a new one closes the oldest idle one, or is refused when all are being answered',
  }),
  setting('databaseUrl', 'database-url', 'DATABASE_URL', databaseUrl, {
    value: 'URL',
    meaning: 'a postgres:// URL: keep the index in that PostgreSQL database instead of the embedded store (prefer the variable: a flag shows in ps)',
  }),
  setting('poolSize', 'pool-size', 'POOL_SIZE', integer(1, 1_000), { value: 'N', meaning: 'connections in the PostgreSQL pool' }),
  setting('batchMaxCommands', 'batch-max-commands', 'BATCH_MAX_COMMANDS', integer(1, 100_000), {
    value: 'N',
    meaning: 'commands in one PostgreSQL batch transaction at most (the commands of a turn beyond it wait for the next)',
  }),
  setting('batchesInFlight', 'batches-in-flight', 'BATCHES_IN_FLIGHT', integer(1, 1_000), {
    value: 'N',
    meaning:
      'PostgreSQL batch transactions in flight at once, each on a pooled connection (at most the pool size), and as many of the QUERY lane (the lanes share the pool, one connection at least each); beyond the first, only full ones',
  }),
  setting('queryLane', 'query-lane', 'QUERY_LANE', boolean, {
    meaning:
      "answer connections that send only QUERYs in PostgreSQL batches of their own, which never wait behind a write batch: faster when the database has cores of its own, slower for pipelining clients when it shares the servers' (docs/postgres.md); true/false, 1/0 or yes/no",
  }),
  setting('requireSynchronousStandby', 'require-synchronous-standby', 'REQUIRE_SYNCHRONOUS_STANDBY', boolean, {
    meaning:
      'refuse to start unless PostgreSQL commits synchronously to a standby, so that a failover loses no acknowledged write; the variable takes true/false, 1/0 or yes/no',
  }),
] as const;

const MASK = '***';
/** Query parameters whose value is a secret: `password` (which the postgres client sends to the server as is), `sslpassword`, tokens. */
const SECRET_PARAMETER = /pass|secret|token/i;

/**
 * The URL with its secrets masked, for logs and error messages: the password of the user info and
 * every password-like query parameter. It splits the URL by the generic syntax (RFC 3986), not with
 * `new URL`, which refuses the multi-host form (`h1:5432,h2:5432`) the postgres client accepts. When
 * the split is uncertain, more is masked, never less: an `@` after the host (a password holding an
 * unencoded `/`, `?` or `#`) masks everything up to the last `@`, and text that is no URL is masked whole.
 */
export function redactDatabaseUrl(url: string): string {
  const parts = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url);
  if (parts === null) return MASK;
  const [, scheme = '', authority = '', tail = ''] = parts;
  const lastAt = tail.lastIndexOf('@');
  if (lastAt >= 0) return redactDatabaseUrl(`${scheme}${MASK}@${tail.slice(lastAt + 1)}`);
  const at = authority.lastIndexOf('@');
  const userInfo = at < 0 ? undefined : authority.slice(0, at);
  const colon = userInfo?.indexOf(':') ?? -1;
  const user = userInfo === undefined ? '' : `${colon < 0 ? userInfo : `${userInfo.slice(0, colon)}:${MASK}`}@`;
  return `${scheme}${user}${authority.slice(at + 1)}${redactQuery(tail)}`;
}

/** Path, query and fragment, with the value of each secret query parameter masked. */
function redactQuery(tail: string): string {
  const question = tail.indexOf('?');
  if (question < 0) return tail;
  const hash = tail.indexOf('#', question);
  const end = hash < 0 ? tail.length : hash;
  const parameters = tail
    .slice(question + 1, end)
    .split('&')
    .map((parameter) => {
      const equals = parameter.indexOf('=');
      const name = equals < 0 ? parameter : parameter.slice(0, equals);
      let decoded: string;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        return MASK; // a name we cannot read might be any name
      }
      return SECRET_PARAMETER.test(decoded) && equals >= 0 ? `${name}=${MASK}` : parameter;
    });
  return `${tail.slice(0, question + 1)}${parameters.join('&')}${tail.slice(end)}`;
}

/**
 * The text with every URL in it passed through redactDatabaseUrl, for messages that may quote one.
 * A URL runs to the next white space: a quote after it is kept with its path, and one inside a
 * password does not cut the password short.
 */
export function redactUrlsIn(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/\S*/gi, (url) => redactDatabaseUrl(url));
}

/** Flags as `node:util` parseArgs returns them: booleans for switches, strings for values. */
export type Flags = Readonly<Record<string, string | boolean | undefined>>;
export type Environment = Readonly<Record<string, string | undefined>>;

/** The setting as the user gave it, for messages: its flag when given, else its variable when set, else its flag. */
export function settingName(key: keyof Config, flags: Flags, env: Environment): string {
  const found = SETTINGS.find((candidate) => candidate.key === key);
  if (found === undefined) return key;
  return flags[found.flag] === undefined && env[found.env] !== undefined ? found.env : `--${found.flag}`;
}

export function resolveConfig(flags: Flags, env: Environment): Config {
  const config: Config = { ...DEFAULTS };
  for (const { key, flag, env: variable, parse } of SETTINGS) {
    const fromFlag = flags[flag];
    const raw = fromFlag === undefined ? env[variable] : String(fromFlag);
    if (raw === undefined) continue;
    (config as unknown as Record<string, unknown>)[key] = (parse as Parser<unknown>)(raw, settingName(key, flags, env));
  }
  return config;
}
