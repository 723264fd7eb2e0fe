/**
 * The index's two ways out of the admin port. `GET /v1/export?format=homebrew|jsonl`: the whole index at one moment, every package after its
 * dependencies, so that replaying it (`package-indexer import`) rebuilds the same index. The copy
 * is taken first (Backend.exportIndex), then written in chunks that wait for the socket to drain,
 * so a slow reader holds memory for one chunk, not for the whole text. Packages in a cycle, or
 * depending on one, come last by name and are counted in the `x-held-by-cycles` header: the
 * protocol cannot rebuild a cycle, so an import of them reports them instead of loading them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Backend, ExportedPackage } from '../store/backend.js';
import { BadRequest } from './parameters.js';

const FORMATS = {
  homebrew: {
    type: 'text/plain; charset=utf-8',
    line: (pkg: ExportedPackage) => (pkg.deps.length === 0 ? `${pkg.name}:\n` : `${pkg.name}: ${pkg.deps.join(' ')}\n`),
  },
  jsonl: { type: 'application/x-ndjson', line: (pkg: ExportedPackage) => `${JSON.stringify({ name: pkg.name, dependencies: pkg.deps })}\n` },
} as const;

/** About this many bytes per write. */
const CHUNK_BYTES = 64 * 1024;

type Format = keyof typeof FORMATS;

function formatParameter(params: URLSearchParams): Format {
  const format = params.get('format') ?? 'homebrew';
  if (format !== 'homebrew' && format !== 'jsonl') throw new BadRequest('format', `format must be homebrew or jsonl, got "${format}"`);
  return format;
}

/**
 * `GET /v1/snapshot`: the index of one moment as a store file (Backend.snapshot), streamed with
 * its length so that a client can show progress and tell a cut transfer from a whole one.
 */
export async function streamSnapshot(backend: Backend, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const snapshot = await backend.snapshot();
  try {
    response.writeHead(200, {
      'content-type': 'application/vnd.sqlite3',
      'content-length': String(snapshot.bytes),
      'content-disposition': 'attachment; filename="index.db"',
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    for await (const chunk of snapshot.read()) {
      if (!response.write(chunk) && !(await drained(response))) return;
      if (response.destroyed) return;
    }
    response.end();
  } finally {
    await snapshot.release();
  }
}

/** Resolves true once the response can take more, false when the client has gone. */
function drained(response: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (more: boolean): void => {
      response.off('drain', onDrain);
      response.off('close', onClose);
      resolve(more);
    };
    const onDrain = (): void => settle(true);
    const onClose = (): void => settle(false);
    response.once('drain', onDrain);
    response.once('close', onClose);
  });
}

export async function streamExport(backend: Backend, request: IncomingMessage, response: ServerResponse, params: URLSearchParams): Promise<void> {
  const format = FORMATS[formatParameter(params)];
  const { packages, heldByCycles } = await backend.exportIndex();
  response.writeHead(200, {
    'content-type': format.type,
    'x-package-count': String(packages.length),
    'x-held-by-cycles': String(heldByCycles),
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  let chunk = '';
  for (const pkg of packages) {
    chunk += format.line(pkg);
    if (chunk.length < CHUNK_BYTES) continue;
    const more = response.write(chunk);
    chunk = '';
    if (!more && !(await drained(response))) return;
    if (response.destroyed) return;
  }
  response.end(chunk);
}
