/**
 * `package-indexer check`: a conformance and stress run against any server, modelled on the
 * original challenge's test harness. Many clients, each with one connection and one request in
 * flight, clean up, brute-force index their share of a dataset (dependencies may belong to other
 * clients), verify it, remove it and verify it is gone, with broken lines mixed in that must get
 * ERROR. Phases end together, so no client removes what another still needs.
 */
import type { Dataset, Package } from '../dataset/dataset.js';
import { Random } from '../dataset/random.js';
import type { ParsedArgs } from './command.js';
import { CheckClient, CheckState, type Mismatch } from '../client/check-client.js';
import { connectMany, type Endpoint } from '../client/connect-many.js';
import { datasetFrom, targetsFrom } from './run-options.js';

export interface CheckOptions {
  /** Packages, each after its dependencies. */
  readonly dataset: Dataset;
  /** Servers; clients are spread over them round-robin. */
  readonly targets: readonly Endpoint[];
  /** Clients, each with its own connection. */
  readonly concurrency: number;
  /** Share of requests preceded by a broken line that must get ERROR, in percent. @default 0 */
  readonly brokenPercent?: number;
  /** @default 1 */
  readonly seed?: number;
  /** A brute-force phase in which no package got OK for this long fails the run, in ms. @default 30000 */
  readonly stallTimeoutMs?: number;
  /** Receives progress lines (phase names, counts). */
  readonly progress?: (line: string) => void;
}

export interface PhaseResult {
  readonly name: string;
  readonly durationMs: number;
  readonly requests: number;
}

export interface CheckResult {
  readonly passed: boolean;
  /** Why the run failed, when it did. */
  readonly failure: string | undefined;
  readonly packages: number;
  readonly clients: number;
  readonly requests: number;
  readonly brokenLines: number;
  /** The first wrong replies; the run stops after a few. */
  readonly mismatches: readonly Mismatch[];
  readonly phases: readonly PhaseResult[];
  readonly durationMs: number;
}

interface Phase {
  readonly name: string;
  readonly run: (client: CheckClient, share: readonly Package[]) => Promise<void>;
}

const PHASES: readonly Phase[] = [
  { name: 'cleanup (remove all, brute force)', run: (client, share) => client.bruteForce('REMOVE', share) },
  { name: 'index (brute force)', run: (client, share) => client.bruteForce('INDEX', share) },
  { name: 'verify indexed (QUERY → OK)', run: (client, share) => client.verify(share, 'OK') },
  { name: 'remove (brute force)', run: (client, share) => client.bruteForce('REMOVE', share) },
  { name: 'verify removed (QUERY → FAIL)', run: (client, share) => client.verify(share, 'FAIL') },
];

export async function runCheck(options: CheckOptions): Promise<CheckResult> {
  const { dataset, targets, concurrency, seed = 1, stallTimeoutMs = 30_000 } = options;
  const progress = options.progress ?? ((): void => {});
  const random = new Random(seed);
  const state = new CheckState(stallTimeoutMs);
  const startedAt = performance.now();
  const shares = shareOut(dataset, concurrency, random);
  progress(`connecting ${concurrency} clients to ${targets.map((t) => `${t.host}:${t.port}`).join(', ')}`);
  const clients = await connectClients(options, state, random);
  const phases: PhaseResult[] = [];
  try {
    for (const [at, phase] of PHASES.entries()) {
      if (state.stopped) break;
      const work = (): Promise<void>[] => clients.map((client, c) => phase.run(client, shares[c] ?? []));
      phases.push(await runPhase(`${at + 1}/${PHASES.length} ${phase.name}`, dataset.length, progress, state, work));
    }
  } finally {
    for (const client of clients) client.close();
  }
  return {
    passed: !state.stopped && state.mismatches.length === 0,
    failure: state.failure ?? (state.mismatches.length > 0 ? 'wrong replies' : undefined),
    packages: dataset.length,
    clients: concurrency,
    requests: state.requests,
    brokenLines: state.brokenLines,
    mismatches: state.mismatches,
    phases,
    durationMs: performance.now() - startedAt,
  };
}

/** Client c gets every concurrency-th package of a seeded shuffle. */
function shareOut(dataset: Dataset, concurrency: number, random: Random): Package[][] {
  const shares: Package[][] = Array.from({ length: concurrency }, () => []);
  const shuffled = random.shuffle([...dataset]);
  shuffled.forEach((pkg, at) => shares[at % concurrency]?.push(pkg));
  return shares;
}

async function connectClients(options: CheckOptions, state: CheckState, random: Random): Promise<CheckClient[]> {
  const { dataset, brokenPercent = 0 } = options;
  const connections = await connectMany(options.targets, options.concurrency);
  return connections.map((connection, c) => new CheckClient(connection, state, random.fork(c), brokenPercent, dataset));
}

async function runPhase(
  name: string,
  packages: number,
  progress: (line: string) => void,
  state: CheckState,
  work: () => Promise<void>[],
): Promise<PhaseResult> {
  progress(`phase ${name}: ${packages} packages`);
  state.startPhase();
  const requestsBefore = state.requests;
  const startedAt = performance.now();
  const ticker = setInterval(
    () => progress(`  ${state.done}/${packages} done, ${state.retries} FAIL retries, ${state.requests - requestsBefore} requests`),
    1000,
  );
  // allSettled: when one connection fails the others stop at their next request; wait for them
  for (const outcome of await Promise.allSettled(work())) {
    if (outcome.status === 'rejected') {
      const error: unknown = outcome.reason;
      state.stop(`connection failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  clearInterval(ticker);
  const durationMs = performance.now() - startedAt;
  progress(`  ${state.done}/${packages} done in ${(durationMs / 1000).toFixed(2)} s (${state.retries} FAIL retries)`);
  return { name, durationMs, requests: state.requests - requestsBefore };
}

function formatResult(result: CheckResult): string {
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const lines = [
    `${result.passed ? 'PASS' : 'FAIL'}: ${result.packages} packages, ${result.clients} clients, ${result.requests} requests (${result.brokenLines} broken lines) in ${seconds(result.durationMs)}`,
    ...result.phases.map((phase) => `  ${phase.name.padEnd(40)} ${seconds(phase.durationMs).padStart(10)} ${String(phase.requests).padStart(10)} requests`),
  ];
  if (result.failure !== undefined) lines.push(`reason: ${result.failure}`);
  for (const found of result.mismatches) lines.push(`  sent ${found.sent}\n    expected ${found.expected}, got ${found.got}`);
  return lines.join('\n');
}

export async function check(args: ParsedArgs): Promise<number> {
  const targets = targetsFrom(args);
  const concurrency = args.integer('concurrency', 1);
  const brokenPercent = args.number('broken-percent', 0, 100);
  const stallTimeoutMs = args.number('stall-seconds', 0.1, 86_400) * 1000;
  const seed = args.integer('seed');
  const { dataset, description } = await datasetFrom(args);
  const progress = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  progress(`dataset: ${description}`);
  const result = await runCheck({ dataset, targets, concurrency, brokenPercent, seed, stallTimeoutMs, progress });
  process.stdout.write(`${formatResult(result)}\n`);
  return result.passed ? 0 : 1;
}
