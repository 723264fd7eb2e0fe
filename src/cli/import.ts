/**
 * `package-indexer import FILE`: loads a Homebrew dump or JSON lines (what `/v1/export` writes)
 * into running servers. Packages go out level by level (first those without dependencies, then
 * those whose dependencies are all in earlier levels), pipelined over one connection per target:
 * within a level nothing depends on anything else, so the connections may race; between levels
 * the import waits for every reply, so each INDEX finds its dependencies indexed on any server of
 * a shared database. Broken lines and cycles are reported and the rest is loaded; the exit status
 * says whether everything was.
 */
import type { Endpoint } from '../client/connect-many.js';
import { connectMany } from '../client/connect-many.js';
import type { ProtocolClient } from '../client/protocol-client.js';
import type { Package } from '../dataset/dataset.js';
import { readImportFile, type ImportFile, type ImportFormat } from '../dataset/import-file.js';
import { UsageError } from '../errors.js';
import { dependencyOrder } from '../graph/dependency-order.js';
import { encodeCommand } from '../protocol/encode.js';
import type { Reply } from '../protocol/types.js';
import type { ParsedArgs } from './command.js';
import { ProgressBar } from './progress-bar.js';
import { targetsFrom } from './run-options.js';

/** Requests in flight at most, over all connections: enough to keep a server busy, bounded memory. */
const WINDOW = 4096;
/** Failed packages named in the report; the count is always given. */
const NAMED_FAILURES = 20;

interface Outcome {
  indexed: number;
  readonly failed: Array<{ name: string; reply: Reply }>;
}

function formatOf(args: ParsedArgs): ImportFormat | undefined {
  const format = args.text('format');
  if (format === undefined || format === 'homebrew' || format === 'jsonl') return format;
  throw new UsageError(`--format: expected homebrew or jsonl, got "${format}"`);
}

async function read(path: string, format: ImportFormat | undefined): Promise<ImportFile> {
  try {
    return await readImportFile(path, format);
  } catch (error) {
    const reason =
      error instanceof Error && 'code' in error && error.code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error);
    throw new UsageError(`${path}: ${reason}`);
  }
}

/** Groups the ordered packages by level: each level only needs those before it. */
function levelsOf(ordered: ReadonlyArray<{ readonly pkg: Package; readonly level: number }>): Package[][] {
  const levels: Package[][] = [];
  for (const { pkg, level } of ordered) (levels[level] ??= []).push(pkg);
  return levels.filter((level) => level !== undefined);
}

async function send(clients: readonly ProtocolClient[], levels: readonly Package[][], outcome: Outcome, progress: ProgressBar): Promise<void> {
  let turn = 0;
  for (const level of levels) {
    for (let start = 0; start < level.length; start += WINDOW) {
      const window = level.slice(start, start + WINDOW);
      const replies = await Promise.all(
        window.map((pkg) => (clients[turn++ % clients.length] as ProtocolClient).request(encodeCommand({ kind: 'INDEX', name: pkg.name, deps: pkg.deps }))),
      );
      replies.forEach((reply, k) => {
        if (reply === 'OK') outcome.indexed++;
        else outcome.failed.push({ name: (window[k] as Package).name, reply });
      });
      progress.update(outcome.indexed + outcome.failed.length);
    }
  }
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** The file's problems on stderr, `FILE:LINE: message`, and cycles by name. */
function reportFile(path: string, file: ImportFile, held: readonly Package[], inCycles: readonly string[]): void {
  const lines = file.problems.map((problem) => `${path}:${problem.line}: ${problem.message}`);
  if (held.length > 0) {
    lines.push(`cycle: ${inCycles.join(', ')} depend on each other, so no order indexes each after its dependencies`);
    const behind = held.length - inCycles.length;
    if (behind > 0) lines.push(`not sent either: ${plural(behind, 'package')} depending on the cycle`);
  }
  if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
}

export async function importFile(args: ParsedArgs): Promise<number> {
  const [path, ...extra] = args.positionals;
  if (path === undefined || extra.length > 0) throw new UsageError('expected one FILE to import');
  const format = formatOf(args);
  const targets: Endpoint[] = args.switch('dry-run') ? [] : targetsFrom(args);
  const file = await read(path, format);
  const { ordered, held, inCycles } = dependencyOrder(file.packages);
  reportFile(path, file, held, inCycles);
  const clean = file.problems.length === 0 && held.length === 0;
  const shape = `${plural(file.packages.length, 'package')} (${file.format}${file.added > 0 ? `, ${file.added} only named as dependencies` : ''}), ${plural(file.problems.length, 'broken line')}, ${plural(held.length, 'package')} held by cycles`;
  if (args.switch('dry-run')) {
    process.stdout.write(`import --dry-run: ${shape}; ${ordered.length} would be sent\n`);
    return clean ? 0 : 1;
  }
  const clients = await connectMany(targets, targets.length);
  const outcome: Outcome = { indexed: 0, failed: [] };
  const progress = new ProgressBar('import', ordered.length, process.stderr);
  const started = performance.now();
  try {
    await send(clients, levelsOf(ordered), outcome, progress);
  } finally {
    progress.done();
    for (const client of clients) client.close();
  }
  const seconds = (performance.now() - started) / 1000;
  if (outcome.failed.length > 0) {
    const named = outcome.failed.slice(0, NAMED_FAILURES).map(({ name, reply }) => `${name} (${reply})`);
    process.stderr.write(
      `refused by the server: ${named.join(', ')}${outcome.failed.length > NAMED_FAILURES ? `, and ${outcome.failed.length - NAMED_FAILURES} more` : ''}\n`,
    );
  }
  const rate = seconds > 0 ? Math.round(outcome.indexed / seconds) : outcome.indexed;
  process.stdout.write(
    `import: ${outcome.indexed} indexed, ${outcome.failed.length} failed, ${plural(file.problems.length, 'broken line')}, ${plural(held.length, 'package')} held by cycles; ${seconds.toFixed(2)} s, ${rate} packages/s\n`,
  );
  return clean && outcome.failed.length === 0 ? 0 : 1;
}
