/**
 * The console's built files (Vite writes them to dist/console at `npm run build`), served from
 * memory. Files under /assets/ carry a content hash in their names, so browsers may keep them for
 * a year; index.html is revalidated on every load so a new build is picked up at once. Text is
 * compressed once per file and encoding (brotli, else gzip), on first request and off the event
 * loop, and kept. Console routes (`/`, `/packages/...`) all answer index.html: the browser app
 * reads the path itself, so reload, back and forward work on real URLs.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

/** Where `npm run build` puts the console, seen from dist/src/admin/. */
export const BUILT_CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.map']);
/** Below this, compression saves less than its headers cost. */
const MIN_COMPRESSED_BYTES = 1024;
const HASHED_CACHE = 'public, max-age=31536000, immutable';
const PAGE_CACHE = 'no-cache';

type Encoding = 'br' | 'gzip';
/** Brotli's 10 and 11 take seconds for the graph library and save under a tenth more. */
const BROTLI_QUALITY = 9;
const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly cacheControl: string;
  readonly etag: string;
  readonly compressible: boolean;
  readonly encoded: Map<Encoding, Promise<Buffer>>;
}

/** Whether a path is one of the console's pages, which all answer index.html. */
export function isConsoleRoute(pathname: string): boolean {
  return pathname === '/' || pathname.startsWith('/packages/');
}

export class ConsoleAssets {
  readonly #files = new Map<string, Asset>();

  /** The files under `dir`, or undefined when the console was not built there. */
  static load(dir: string = BUILT_CONSOLE_DIR): ConsoleAssets | undefined {
    try {
      if (!statSync(path.join(dir, 'index.html')).isFile()) return undefined;
    } catch {
      return undefined;
    }
    const assets = new ConsoleAssets();
    for (const file of filesUnder(dir)) {
      const urlPath = `/${path.relative(dir, file).split(path.sep).join('/')}`;
      const extension = path.extname(file);
      const body = readFileSync(file);
      assets.#files.set(urlPath, {
        body,
        contentType: CONTENT_TYPES[extension] ?? 'application/octet-stream',
        cacheControl: urlPath.startsWith('/assets/') ? HASHED_CACHE : PAGE_CACHE,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        compressible: COMPRESSIBLE.has(extension) && body.length >= MIN_COMPRESSED_BYTES,
        encoded: new Map(),
      });
    }
    return assets;
  }

  /** Answers a request for a console file or page; false when `pathname` is neither. */
  async serve(pathname: string, request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const asset = this.#files.get(isConsoleRoute(pathname) ? '/index.html' : pathname);
    if (asset === undefined) return false;
    response.setHeader('content-type', asset.contentType);
    response.setHeader('cache-control', asset.cacheControl);
    response.setHeader('etag', asset.etag);
    if (asset.compressible) response.setHeader('vary', 'accept-encoding');
    if (request.headers['if-none-match'] === asset.etag) {
      response.writeHead(304);
      response.end();
      return true;
    }
    const encoding = asset.compressible ? preferredEncoding(request.headers['accept-encoding']) : undefined;
    const body = encoding === undefined ? asset.body : await encoded(asset, encoding);
    if (encoding !== undefined) response.setHeader('content-encoding', encoding);
    response.writeHead(200, { 'content-length': body.length });
    response.end(body);
    return true;
  }
}

function encoded(asset: Asset, encoding: Encoding): Promise<Buffer> {
  let body = asset.encoded.get(encoding);
  if (body === undefined) {
    body =
      encoding === 'br'
        ? brotli(asset.body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: asset.body.length } })
        : gzip(asset.body, { level: 9 });
    asset.encoded.set(encoding, body);
  }
  return body;
}

/** br when the client takes it, else gzip, else none; `;q=0` refuses an encoding. */
export function preferredEncoding(acceptEncoding: string | undefined): Encoding | undefined {
  if (acceptEncoding === undefined) return undefined;
  const accepted = new Set<string>();
  for (const part of acceptEncoding.split(',')) {
    const [token = '', ...params] = part.trim().toLowerCase().split(';');
    const refused = params.some((param) => /^\s*q=0(\.0{0,3})?\s*$/.test(param));
    if (!refused) accepted.add(token.trim());
  }
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip')) return 'gzip';
  return undefined;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}
