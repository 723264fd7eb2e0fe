/**
 * Before and after, on one machine, one run after the other: the same cluster benchmark against
 * the servers of two builds, in alternating order (before then after, then after then before, ...),
 * each run on a fresh throwaway PostgreSQL, then each pair's figures, the medians, and the ratios.
 * Both builds are driven by this build's load generator (cluster.ts --serve-script), so that only
 * the servers differ.
 *
 *   node dist/bench/compare-builds.js --before ../old/dist/src/cli/main.js [--after dist/src/cli/main.js]
 *     [--pairs 3] [--instances 1] [--serve-args="ARGS"] [--before-serve-args="ARGS"] [--after-serve-args="ARGS"]
 *     -- --connections 100 [--pipeline 16] --duration-seconds 10
 *
 * The options after `--` are bench's. `--serve-args` go to both builds' servers, the others to one
 * build's (`--before` and `--after` the same build, `--after-serve-args=--query-lane`, measures a
 * setting). An older build is made by checking it out elsewhere and building it there (`npm ci &&
 * npx tsc -p tsconfig.json`). On a shared machine one run can be off by a third, and the drift over
 * minutes is larger than many a change: the ratio of each pair (two runs a few seconds apart) is
 * steadier than the ratio of the medians, and both are printed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { median } from '../src/cli/bench.js';
import { MAIN_SCRIPT } from '../src/client/child-server.js';

type Build = 'before' | 'after';

const { values, positionals: benchArgs } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string', default: MAIN_SCRIPT },
    pairs: { type: 'string', default: '3' },
    instances: { type: 'string', default: '1' },
    'serve-args': { type: 'string', default: '' },
    'before-serve-args': { type: 'string', default: '' },
    'after-serve-args': { type: 'string', default: '' },
  },
  allowPositionals: true,
});

/** Refuses the run with a one-line reason. */
function usage(reason: string): never {
  process.stderr.write(`compare-builds: ${reason}\n`);
  process.exit(2);
}

if (values.before === undefined) usage("--before MAIN_JS is required (a build's dist/src/cli/main.js)");
const builds: Record<Build, string> = { before: resolve(values.before), after: resolve(values.after) };
for (const [which, script] of Object.entries(builds)) if (!existsSync(script)) usage(`--${which}: ${script} does not exist (is that build built?)`);
const pairs = Number(values.pairs);
if (!Number.isInteger(pairs) || pairs < 1) usage('--pairs must be a whole number, 1 or more');
for (const option of ['--json', '--targets', '--rounds']) {
  if (benchArgs.some((arg) => arg === option || arg.startsWith(`${option}=`)))
    usage(`${option} is set here, not among bench's options (the pairs are the rounds)`);
}

interface Figures {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** The 1-minute load average before the run: mostly the runs before it, and any other work. */
  readonly loadBefore: number;
}

const CLUSTER_SCRIPT = fileURLToPath(new URL('./cluster.js', import.meta.url));

/** One cluster run of bench against one build's servers. */
async function run(which: Build): Promise<Figures> {
  const [loadBefore] = loadavg();
  const serveArgs = `${values['serve-args']} ${values[`${which}-serve-args`]}`.trim();
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [CLUSTER_SCRIPT, '--instances', values.instances, '--serve-script', builds[which], `--serve-args=${serveArgs}`, '--', 'bench', ...benchArgs, '--json'],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const { target } = JSON.parse(stdout) as {
    target: { result: { requestsPerSecond: number; latency: { p50Us: number; p99Us: number }; replies: { ERROR: number }; connectionErrors: number } };
  };
  const { result } = target;
  return {
    requestsPerSecond: result.requestsPerSecond,
    p50Ms: result.latency.p50Us / 1000,
    p99Ms: result.latency.p99Us / 1000,
    errors: result.replies.ERROR + result.connectionErrors,
    loadBefore: loadBefore ?? 0,
  };
}

function describe(figures: Figures): string {
  const errors = figures.errors > 0 ? `, ${figures.errors} errors` : '';
  return `${Math.round(figures.requestsPerSecond).toLocaleString('en-US').padStart(8)} requests/s, p50 ${figures.p50Ms.toFixed(1).padStart(6)} ms, p99 ${figures.p99Ms.toFixed(1).padStart(6)} ms${errors} (load before ${figures.loadBefore.toFixed(1)})`;
}

const results: Array<Record<Build, Figures>> = [];

/** The medians and ratios of the pairs that completed. */
function summarize(): void {
  if (results.length === 0) return;
  const medianOf = (which: Build, key: 'requestsPerSecond' | 'p50Ms' | 'p99Ms'): number => median(results.map((pair) => pair[which][key]));
  const line = (which: Build): string =>
    `${Math.round(medianOf(which, 'requestsPerSecond')).toLocaleString('en-US')} requests/s, p50 ${medianOf(which, 'p50Ms').toFixed(1)} ms, p99 ${medianOf(which, 'p99Ms').toFixed(1)} ms`;
  const pairRatio = median(results.map((pair) => pair.after.requestsPerSecond / pair.before.requestsPerSecond));
  const pairP99 = median(results.map((pair) => pair.before.p99Ms / pair.after.p99Ms));
  const ratio = medianOf('after', 'requestsPerSecond') / medianOf('before', 'requestsPerSecond');
  const p99 = medianOf('before', 'p99Ms') / medianOf('after', 'p99Ms');
  process.stdout.write(
    [
      '',
      `median of ${results.length} pairs, before: ${line('before')}`,
      `median of ${results.length} pairs, after:  ${line('after')}`,
      `after/before: median of the pairs' ratios ${pairRatio.toFixed(2)}x requests/s, p99 ÷ ${pairP99.toFixed(2)}; ratio of the medians ${ratio.toFixed(2)}x, p99 ÷ ${p99.toFixed(2)}`,
      '',
    ].join('\n'),
  );
}

process.stderr.write(`compare-builds: ${pairs} pairs of bench ${benchArgs.join(' ')}\n  before: ${builds.before}\n  after:  ${builds.after}\n`);
for (let pair = 1; pair <= pairs; pair++) {
  const order: readonly Build[] = pair % 2 === 1 ? ['before', 'after'] : ['after', 'before'];
  const figures: Partial<Record<Build, Figures>> = {};
  for (const which of order) {
    try {
      figures[which] = await run(which);
    } catch (error) {
      // the pairs so far still tell something; the failed run's error line says what went wrong
      const lines = String((error as { stderr?: unknown }).stderr || error)
        .trim()
        .split('\n');
      const reason = lines.find((text) => /^\w*Error\b.*:/.test(text)) ?? lines.slice(-5).join('\n  ');
      process.stderr.write(`compare-builds: pair ${pair}, ${which} (${builds[which]}) failed:\n  ${reason}\n`);
      summarize();
      process.exit(1);
    }
    process.stdout.write(`pair ${pair} ${which.padEnd(6)} ${describe(figures[which])}\n`);
  }
  const { before, after } = figures as Record<Build, Figures>;
  results.push({ before, after });
  process.stdout.write(
    `pair ${pair} ratio  ${(after.requestsPerSecond / before.requestsPerSecond).toFixed(2)}x requests/s, p99 ÷ ${(before.p99Ms / after.p99Ms).toFixed(2)}\n`,
  );
}
summarize();
