/**
 * `package-indexer backup --out FILE`: saves `GET /v1/snapshot` of a running server. The bytes go
 * to FILE.partial and become FILE only once as many arrived as the server announced, so FILE is
 * never a cut-off store.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UsageError } from '../errors.js';
import type { ParsedArgs } from './command.js';
import { ProgressBar } from './progress-bar.js';

function setting(args: ParsedArgs, name: string, variable: string): string | undefined {
  return args.given(name) ? args.text(name) : (process.env[variable] ?? args.text(name));
}

export async function backup(args: ParsedArgs): Promise<number> {
  const out = args.text('out');
  if (out === undefined) throw new UsageError('--out FILE is required: where to save the snapshot');
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0] ?? ''}"`);
  const base = setting(args, 'admin', 'PACKAGE_INDEXER_ADMIN_URL') ?? '';
  const token = setting(args, 'admin-token', 'PACKAGE_INDEXER_ADMIN_TOKEN');
  let url: URL;
  try {
    url = new URL('/v1/snapshot', base);
  } catch {
    throw new UsageError(`--admin: expected a URL such as http://127.0.0.1:8081, got "${base}"`);
  }
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new Error(`cannot reach the admin port at ${url.origin} (${cause})`);
  }
  if (response.status === 401 || response.status === 403)
    throw new Error(`the admin port at ${url.origin} wants a token: --admin-token or PACKAGE_INDEXER_ADMIN_TOKEN`);
  if (response.status !== 200 || response.body === null) throw new Error(`the server answered ${response.status} to GET /v1/snapshot`);
  const expected = Number(response.headers.get('content-length') ?? NaN);
  const partial = `${out}.partial`;
  const progress = new ProgressBar('backup', Number.isFinite(expected) ? expected : 0, process.stderr);
  let received = 0;
  try {
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => progress.update((received += chunk.length)));
    await pipeline(body, createWriteStream(partial));
    if (Number.isFinite(expected) && received !== expected) throw new Error(`the snapshot was cut off: ${received} of ${expected} bytes arrived`);
    await rename(partial, out);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  } finally {
    progress.done();
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `backup: ${received} bytes saved to ${out} in ${seconds.toFixed(2)} s; restore by copying it to DIR/index.db and running serve --data-dir DIR\n`,
  );
  return 0;
}
