/**
 * The admin endpoints. Parameters are validated by the protocol's own name rules; a bad one gets
 * 400 with a JSON body naming it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isValidPackageName } from '../protocol/parse.js';
import type { Backend } from '../store/backend.js';
import type { AdminOptions } from './http.js';

export interface AdminContext extends AdminOptions {
  readonly uptimeSeconds: () => number;
  readonly commandsPerSecond: () => number;
}

const PACKAGE_PATH = '/v1/packages/';
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1_000;
/** A prefix is any start of a valid name, including the empty one. */
const VALID_PREFIX = /^[A-Za-z0-9._+@/:~-]{0,255}$/;

class BadRequest extends Error {
  readonly parameter: string;

  constructor(parameter: string, message: string) {
    super(message);
    this.parameter = parameter;
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

export async function routeRequest(context: AdminContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://admin.invalid');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    sendJson(response, 405, { error: 'method-not-allowed' });
    return;
  }
  try {
    await dispatch(context, url, response);
  } catch (error) {
    if (!(error instanceof BadRequest)) throw error;
    sendJson(response, 400, { error: 'bad-request', parameter: error.parameter, message: error.message });
  }
}

async function dispatch(context: AdminContext, url: URL, response: ServerResponse): Promise<void> {
  const path = url.pathname;
  if (path === '/metrics') {
    const text = await context.metrics.registry.metrics();
    response.writeHead(200, { 'content-type': context.metrics.registry.contentType });
    response.end(text);
  } else if (path === '/healthz') {
    sendJson(response, 200, { status: 'alive' });
  } else if (path === '/readyz') {
    const ready = context.isReady() && context.backend.isAvailable();
    sendJson(response, ready ? 200 : 503, { status: ready ? 'ready' : 'not-ready' });
  } else if (path === '/v1/stats') {
    sendJson(response, 200, await stats(context));
  } else if (path === '/v1/packages') {
    sendJson(response, 200, await listPage(context.backend, url.searchParams));
  } else if (path.startsWith(PACKAGE_PATH)) {
    const name = decodeName(path.slice(PACKAGE_PATH.length));
    const view = await context.backend.describe(name);
    if (view === undefined) sendJson(response, 404, { error: 'not-found', name });
    else sendJson(response, 200, view);
  } else {
    sendJson(response, 404, { error: 'not-found' });
  }
}

function decodeName(raw: string): string {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    throw new BadRequest('name', 'the package name is not valid percent-encoding');
  }
  if (!isValidPackageName(name)) throw new BadRequest('name', 'a package name is 1 to 255 characters from A-Z a-z 0-9 . _ + @ / : ~ -');
  return name;
}

/**
 * A numeric parameter: plain decimal digits only, so that `1e3`, `0x10`, ` 5` (a `+` in a query
 * string decodes to a space) and `5.0` are refused rather than read as numbers.
 */
function wholeNumber(params: URLSearchParams, parameter: string, min: number, max: number, fallback: number): number {
  const raw = params.get(parameter);
  if (raw === null) return fallback;
  const value = /^[0-9]{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) throw new BadRequest(parameter, `the ${parameter} is a whole number from ${min} to ${max}, in decimal digits`);
  return value;
}

async function listPage(backend: Backend, params: URLSearchParams): Promise<{ packages: string[]; nextCursor: string | null }> {
  const prefix = params.get('prefix') ?? '';
  if (!VALID_PREFIX.test(prefix)) throw new BadRequest('prefix', 'a prefix is up to 255 characters from A-Z a-z 0-9 . _ + @ / : ~ -');
  const cursor = params.get('cursor') ?? '';
  if (cursor !== '' && !isValidPackageName(cursor)) throw new BadRequest('cursor', 'the cursor is the last name of the previous page');
  const limit = wholeNumber(params, 'limit', 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE);
  const names = await backend.list({ prefix, after: cursor, limit: limit + 1 });
  const packages = names.slice(0, limit);
  return { packages, nextCursor: names.length > limit ? (packages.at(-1) ?? null) : null };
}

async function stats(context: AdminContext): Promise<Record<string, number>> {
  const counts = await context.backend.counts();
  return {
    packages: counts.packages,
    dependencies: counts.dependencies,
    connections: context.openConnections(),
    uptimeSeconds: Math.round(context.uptimeSeconds()),
    commandsPerSecond: Math.round(context.commandsPerSecond() * 10) / 10,
  };
}
