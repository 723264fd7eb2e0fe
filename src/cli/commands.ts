/**
 * The commands of `package-indexer`: names, help words and option tables, with nothing heavy
 * imported. Each command's implementation (and with it SQLite, PostgreSQL, pino, prom-client) is
 * imported when it runs, so the command list and `--help` start as fast as node itself.
 */
import { SETTINGS } from '../config.js';
import type { CliCommand, OptionTable } from './command.js';

const SERVE_OPTIONS: OptionTable = Object.fromEntries(
  SETTINGS.map((setting) => [
    setting.flag,
    { type: setting.type, value: setting.value, meaning: setting.meaning, choices: setting.choices, default: setting.defaultText, env: setting.env },
  ]),
);

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'run the index server',
  synopsis: '[options]',
  description: `Runs the index server. Each option can also be set by its environment variable (in brackets);
the flag wins. An invalid value stops the server with one line naming the setting and exit status 2.
SIGTERM or SIGINT shuts it down gracefully; SIGHUP, SIGUSR1 and SIGUSR2 are logged and ignored.`,
  options: SERVE_OPTIONS,
  run: async (args) => (await import('./serve.js')).serve(args),
};

const TARGET_OPTIONS: OptionTable = {
  host: { type: 'string', value: 'HOST', meaning: 'server host', default: '127.0.0.1' },
  port: { type: 'string', value: 'PORT', meaning: 'server port', default: '8080' },
};

export const clientCommand: CliCommand = {
  name: 'client',
  summary: 'send commands and print the replies',
  synopsis: '[--host HOST] [--port PORT] [LINE ...]',
  description: `Sends each LINE (e.g. 'INDEX|b|a' or 'QUERY|b|') to the server and prints its reply (OK, FAIL or
ERROR). With no LINE, reads lines from stdin. Exits 0 when every line was answered, 1 when the
connection failed.`,
  options: TARGET_OPTIONS,
  positionals: true,
  run: async (args) => (await import('./client.js')).runClient(args),
};

/** Which servers check and bench talk to, and which dataset they use. */
function runOptions(defaultPackages: number): OptionTable {
  return {
    ...TARGET_OPTIONS,
    targets: {
      type: 'string',
      value: 'H:P,H:P,...',
      meaning: 'several servers (e.g. instances sharing one database); connections are spread over them round-robin; replaces --host and --port',
    },
    data: {
      type: 'string',
      value: 'FILE',
      meaning:
        'dataset in the Homebrew dump format (`name: dep1 dep2` per line); dependencies without a line of their own become packages without dependencies',
    },
    packages: { type: 'string', value: 'N', meaning: 'else generate N packages', default: String(defaultPackages) },
    'mean-deps': { type: 'string', value: 'D', meaning: 'mean dependencies per generated package', default: '3' },
    seed: { type: 'string', value: 'S', meaning: 'seed of the generated dataset and of every random choice', default: '1' },
  };
}

export const checkCommand: CliCommand = {
  name: 'check',
  summary: 'conformance and stress run against a server',
  synopsis: '[options]',
  description: `Conformance and stress run against a running server, like the original challenge's harness:
N clients (one connection each, one request in flight) take shares of a dataset and
  1. remove all their packages (brute force: REMOVE until OK)
  2. index them (brute force: INDEX until OK; dependencies may belong to other clients)
  3. verify each with QUERY (expect OK)
  4. remove them all (brute force)
  5. verify each is gone (expect FAIL)
With --broken-percent, a seeded share of requests is preceded by a broken line that must get
ERROR on a connection that stays usable. Progress goes to stderr, the summary to stdout.
Exits 0 when the server passed, 1 when it did not, 2 on bad usage.`,
  options: {
    ...runOptions(3000),
    concurrency: { type: 'string', value: 'N', meaning: 'clients', default: '10' },
    'broken-percent': { type: 'string', value: 'P', meaning: 'percent of requests preceded by a broken line', default: '0' },
    'stall-seconds': { type: 'string', value: 'S', meaning: 'fail when a brute-force phase makes no progress this long', default: '30' },
  },
  run: async (args) => (await import('./check.js')).check(args),
};

export const benchCommand: CliCommand = {
  name: 'bench',
  summary: 'load generator: throughput and latency',
  synopsis: '[options]',
  description: `Load generator. Indexes the dataset through one connection (untimed), warms up, then runs a mix
of QUERY (most) and writes that succeed (re-INDEX of a package with its own deps; REMOVE then
INDEX of a package nobody depends on) for a fixed time, and prints requests/s and latency
percentiles. One process, one thread, many sockets: on a small machine a second generator process
would take the core the server needs.

For a server it started (--baseline, --spawn-server) it also prints the server's CPU time per
request (from /proc): steadier than requests/s on a shared machine, where the generator competes
for the same cores.`,
  options: {
    ...runOptions(10_000),
    connections: { type: 'string', value: 'C', meaning: 'sockets', default: '100' },
    pipeline: { type: 'string', value: 'K', meaning: 'requests in flight per socket; 1 is ping-pong', default: '1' },
    'duration-seconds': { type: 'string', value: 'S', meaning: 'measured time', default: '10' },
    'warmup-seconds': { type: 'string', value: 'S', meaning: 'unrecorded load before it', default: '1' },
    'write-percent': { type: 'string', value: 'P', meaning: 'share of INDEX and REMOVE requests', default: '20' },
    baseline: {
      type: 'boolean',
      meaning: 'first measure a trivial server (OK to every line) with the same load, then the target, and print ours/baseline ratios',
    },
    'spawn-server': { type: 'boolean', meaning: 'start `serve --port 0 --admin-port off` as a child, its store in a new temporary directory, and measure it' },
    'server-args': { type: 'string', value: '"ARGS"', meaning: 'extra arguments for the spawned serve, e.g. "--in-memory"', valueMayStartWithDash: true },
    rounds: {
      type: 'string',
      value: 'N',
      meaning: 'repeat the whole run N times (baseline and target alternating) and print the median ours/baseline ratios',
      default: '1',
    },
    json: { type: 'boolean', meaning: 'print the figures as JSON instead of a table' },
  },
  run: async (args) => (await import('./bench.js')).bench(args),
};

export const graphCommand: CliCommand = {
  name: 'graph',
  summary: 'ask the index: what a package pulls in, what depends on it, install order, why, cycles',
  synopsis: 'deps|dependents|order NAME | path FROM TO | cycles  [options]',
  description: `Asks a running server's read API (its admin port) and prints the answer for a person, or as
JSON with --json:
  deps NAME         everything NAME pulls in, nearest first, with each one's distance (1 = direct)
  dependents NAME   everything that depends on NAME: what stands in the way of removing it
  order NAME        NAME and all it needs, each after its own dependencies, NAME last
  path FROM TO      why FROM depends on TO: a shortest chain of dependencies
  cycles            groups of packages that depend on each other
Exits 0 with an answer, 1 when a package is not indexed, there is no path or no order (a cycle),
or the server cannot be reached, 2 on bad usage.`,
  options: {
    admin: { type: 'string', value: 'URL', meaning: "the server's admin port", default: 'http://127.0.0.1:8081', env: 'PACKAGE_INDEXER_ADMIN_URL' },
    'admin-token': { type: 'string', value: 'TOKEN', meaning: "the admin port's token, when it has one", env: 'PACKAGE_INDEXER_ADMIN_TOKEN' },
    depth: { type: 'string', value: 'N|all', meaning: 'deps and dependents: how many steps to follow', default: 'all' },
    limit: { type: 'string', value: 'N', meaning: 'the most packages (or cycles) to list; the total is always given', default: '100' },
    json: { type: 'boolean', meaning: "print the server's JSON answer as it is" },
  },
  positionals: true,
  run: async (args) => (await import('./graph.js')).graph(args),
};

export const importCommand: CliCommand = {
  name: 'import',
  summary: 'load a dependency list (Homebrew dump or JSON lines) into a server',
  synopsis: 'FILE [--host HOST --port PORT | --targets H:P,...] [--dry-run]',
  description: `Reads FILE, one package a line, as a Homebrew dump (\`name: dep1 dep2\`) or as JSON lines
({"name": ..., "dependencies": [...]}, what GET /v1/export?format=jsonl writes), and indexes every
package after its dependencies, pipelined. A dependency without a line of its own is indexed
without dependencies. A broken line is reported as FILE:LINE and the rest still loads; packages
in a cycle are named and not sent (nor what depends on them). A progress bar shows on a terminal;
the summary (indexed, failed, rate) goes to stdout. --dry-run reads and checks the file only.
Exits 0 when every line was loaded (or, with --dry-run, is loadable), 1 when not, 2 on bad usage.`,
  options: {
    ...TARGET_OPTIONS,
    targets: { type: 'string', value: 'H:P,H:P,...', meaning: 'several servers sharing one database: one connection to each; replaces --host and --port' },
    format: {
      type: 'string',
      value: 'FORMAT',
      meaning: 'homebrew or jsonl; else jsonl for a .jsonl/.ndjson file or one starting with {, homebrew otherwise',
      choices: ['homebrew', 'jsonl'],
    },
    'dry-run': { type: 'boolean', meaning: 'check the file and print what would be sent, without connecting' },
  },
  positionals: true,
  run: async (args) => (await import('./import.js')).importFile(args),
};

export const backupCommand: CliCommand = {
  name: 'backup',
  summary: "save a running server's index, as a store file, without stopping it",
  synopsis: '--out FILE [--admin URL]',
  description: `Saves GET /v1/snapshot of a running server (any store mode) to FILE: the index of one moment as
an SQLite store file. To restore, copy FILE to DIR/index.db and run serve --data-dir DIR. FILE
appears only once complete (FILE.partial until then). A progress bar shows on a terminal.
Exits 0 once FILE is saved, 1 when the server cannot be reached or the transfer fails, 2 on bad usage.`,
  options: {
    out: { type: 'string', value: 'FILE', meaning: 'where to save the snapshot' },
    admin: { type: 'string', value: 'URL', meaning: "the server's admin port", default: 'http://127.0.0.1:8081', env: 'PACKAGE_INDEXER_ADMIN_URL' },
    'admin-token': { type: 'string', value: 'TOKEN', meaning: "the admin port's token, when it has one", env: 'PACKAGE_INDEXER_ADMIN_TOKEN' },
  },
  run: async (args) => (await import('./backup.js')).backup(args),
};

export const COMMANDS: readonly CliCommand[] = [serveCommand, clientCommand, checkCommand, benchCommand, graphCommand, importCommand, backupCommand];
