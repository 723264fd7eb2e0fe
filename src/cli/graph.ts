/**
 * `package-indexer graph`: the read API's questions from a terminal. Answers print as short tables
 * and chains for a person, or as the server's own JSON with --json for scripts.
 */
import { UsageError } from '../errors.js';
import type { ParsedArgs } from './command.js';

interface Closure {
  readonly name: string;
  readonly total: number;
  readonly truncated: boolean;
  readonly packages: ReadonlyArray<{ readonly name: string; readonly depth: number }>;
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

const QUESTIONS: Readonly<Record<string, number>> = { deps: 1, dependents: 1, order: 1, path: 2, cycles: 0 };

function setting(args: ParsedArgs, name: string, variable: string): string | undefined {
  return args.given(name) ? args.text(name) : (process.env[variable] ?? args.text(name));
}

async function ask(args: ParsedArgs, path: string): Promise<Answer> {
  const base = setting(args, 'admin', 'PACKAGE_INDEXER_ADMIN_URL') ?? '';
  const token = setting(args, 'admin-token', 'PACKAGE_INDEXER_ADMIN_TOKEN');
  let url: URL;
  try {
    url = new URL(path, base);
  } catch {
    throw new UsageError(`--admin: expected a URL such as http://127.0.0.1:8081, got "${base}"`);
  }
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  let response: Response;
  try {
    response = await fetch(url, { headers });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new Error(`cannot reach the admin port at ${url.origin} (${cause})`);
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (response.status === 400) throw new UsageError(String(body['message'] ?? 'the server refused the question'));
  if (response.status === 401 || response.status === 403)
    throw new Error(`the admin port at ${url.origin} wants a token: --admin-token or PACKAGE_INDEXER_ADMIN_TOKEN`);
  return { status: response.status, body };
}

function limitOf(args: ParsedArgs): number {
  return args.integer('limit', 1);
}

function depthOf(args: ParsedArgs): string {
  const depth = args.text('depth') ?? 'all';
  if (depth !== 'all' && !/^[1-9][0-9]{0,6}$/.test(depth)) throw new UsageError(`--depth: expected a whole number of at least 1, or all, got "${depth}"`);
  return depth;
}

function printClosure(closure: Closure, heading: string): void {
  const lines = [
    `${heading}: ${closure.total} package${closure.total === 1 ? '' : 's'}${closure.truncated ? ` (the first ${closure.packages.length} shown)` : ''}`,
  ];
  const width = String(Math.max(1, ...closure.packages.map((entry) => entry.depth))).length;
  for (const { name, depth } of closure.packages) lines.push(`  ${String(depth).padStart(width)}  ${name}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** One line saying why there is no answer; exit 1. */
function refuse(body: Record<string, unknown>): number {
  process.stderr.write(`package-indexer graph: ${String(body['message'] ?? body['error'] ?? 'no answer')}\n`);
  return 1;
}

export async function graph(args: ParsedArgs): Promise<number> {
  const [question, ...names] = args.positionals;
  if (question === undefined || QUESTIONS[question] === undefined) throw new UsageError('expected a question: deps, dependents, order, path or cycles');
  if (names.length !== QUESTIONS[question])
    throw new UsageError(`${question} takes ${QUESTIONS[question]} package name${QUESTIONS[question] === 1 ? '' : 's'}`);
  const [first = '', second = ''] = names.map((name) => encodeURIComponent(name));
  const path = {
    deps: `/v1/packages/${first}/dependencies?depth=${depthOf(args)}&limit=${limitOf(args)}`,
    dependents: `/v1/packages/${first}/dependents?depth=${depthOf(args)}&limit=${limitOf(args)}`,
    order: `/v1/packages/${first}/install-order?limit=${limitOf(args)}`,
    path: `/v1/path?from=${first}&to=${second}`,
    cycles: `/v1/cycles?limit=${limitOf(args)}`,
  }[question as 'deps' | 'dependents' | 'order' | 'path' | 'cycles'];
  const { status, body } = await ask(args, path);
  if (args.switch('json')) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return status === 200 ? 0 : 1;
  }
  if (status !== 200) {
    if (status === 409) process.stdout.write(`${(body['cycle'] as string[]).join(' → ')} → ${String((body['cycle'] as string[])[0])}\n`);
    return refuse(body);
  }
  print(question, names, body);
  return 0;
}

function print(question: string, names: readonly string[], body: Record<string, unknown>): void {
  const [name = ''] = names;
  if (question === 'deps') printClosure(body as unknown as Closure, `${name} depends on`);
  else if (question === 'dependents') printClosure(body as unknown as Closure, `depending on ${name}`);
  else if (question === 'order') {
    const order = body['order'] as string[];
    const total = body['total'] as number;
    const lines = [
      `install ${name} in this order: ${total} package${total === 1 ? '' : 's'}${body['truncated'] === true ? ` (the first ${order.length} shown)` : ''}`,
    ];
    order.forEach((member, k) => lines.push(`  ${String(k + 1).padStart(String(order.length).length)}. ${member}`));
    process.stdout.write(`${lines.join('\n')}\n`);
  } else if (question === 'path') {
    process.stdout.write(`${(body['path'] as string[]).join(' → ')}\n`);
  } else {
    const cycles = body['cycles'] as string[][];
    const lines = [`${String(body['total'])} cycle${body['total'] === 1 ? '' : 's'}${body['truncated'] === true ? ` (the first ${cycles.length} shown)` : ''}`];
    for (const cycle of cycles) lines.push(`  ${cycle.length} packages: ${cycle.join(', ')}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
