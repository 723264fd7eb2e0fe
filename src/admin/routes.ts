/**
 * The admin endpoints: operations (metrics, health, readiness), the read API, the change feed and
 * the console's files. Parameters are validated by the protocol's own rules; a bad one gets 400
 * with a JSON body naming it. `HEAD` is answered like `GET` without a body (node:http drops it).
 * Every answer carries the security headers; with a token set, every request but the health
 * probes must carry it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CHALLENGES, type AdminToken } from './admin-token.js';
import { streamChanges } from './change-stream.js';
import { streamExport, streamSnapshot } from './export-stream.js';
import type { ConsoleAssets } from './console-assets.js';
import { cyclesRoute, listRoute, packageRoute, pathRoute, type JsonAnswer } from './graph-routes.js';
import type { AdminOptions } from './http.js';
import type { MetricsTimeline } from './metrics-timeline.js';
import { OPENAPI } from './openapi.js';
import { BadRequest } from './parameters.js';

export interface AdminContext extends Omit<AdminOptions, 'token'> {
  readonly uptimeSeconds: () => number;
  readonly commandsPerSecond: () => number;
  readonly timeline: MetricsTimeline;
  readonly token: AdminToken | undefined;
  /** The built console; undefined when it was not built. */
  readonly assets: ConsoleAssets | undefined;
}

/**
 * Scripts and styles only from files of this origin (none inline), data only from this origin,
 * and no page may frame the console.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** How many of the most depended-upon packages, roots and leaves `/v1/stats` lists. */
const SUMMARY_TOP = 10;

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

export async function routeRequest(context: AdminContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://admin.invalid');
  for (const [header, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(header, value);
  if (context.token !== undefined && !context.token.admits(url.pathname, request.headers.authorization)) {
    response.setHeader('www-authenticate', CHALLENGES);
    sendJson(response, 401, { error: 'unauthorized', message: 'this admin port needs its token: as the password of HTTP Basic, or as Authorization: Bearer' });
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    sendJson(response, 405, { error: 'method-not-allowed' });
    return;
  }
  try {
    if (url.pathname === '/v1/changes') streamChanges(context.backend.changes, request, response, url.searchParams);
    else if (url.pathname === '/v1/export') await streamExport(context.backend, request, response, url.searchParams);
    else if (url.pathname === '/v1/snapshot') await streamSnapshot(context.backend, request, response);
    else await dispatch(context, url, request, response);
  } catch (error) {
    if (!(error instanceof BadRequest)) throw error;
    sendJson(response, 400, { error: 'bad-request', parameter: error.parameter, message: error.message });
  }
}

async function dispatch(context: AdminContext, url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = url.pathname;
  const { reader } = context.backend;
  if (path === '/metrics') {
    const text = await context.metrics.registry.metrics();
    response.writeHead(200, { 'content-type': context.metrics.registry.contentType });
    response.end(text);
    return;
  }
  let answer: JsonAnswer;
  if (path === '/healthz') answer = { status: 200, body: { status: 'alive' } };
  else if (path === '/readyz') answer = readiness(context);
  else if (path === '/v1/stats') answer = { status: 200, body: await stats(context) };
  else if (path === '/v1/stats/history') answer = history(context, url.searchParams);
  else if (path === '/v1/packages') answer = await listRoute(reader, url.searchParams);
  else if (path.startsWith('/v1/packages/')) answer = await packageRoute(reader, path, url.searchParams);
  else if (path === '/v1/path') answer = await pathRoute(reader, url.searchParams);
  else if (path === '/v1/cycles') answer = await cyclesRoute(reader, url.searchParams);
  else if (path === '/v1/openapi.json') answer = { status: 200, body: OPENAPI };
  else if (context.assets !== undefined && (await context.assets.serve(path, request, response))) return;
  else answer = { status: 404, body: { error: 'not-found' } };
  sendJson(response, answer.status, answer.body);
}

function readiness(context: AdminContext): JsonAnswer {
  const ready = context.isReady() && context.backend.isAvailable();
  return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not-ready' } };
}

/** The timeline's samples after `after` (ms since the epoch; default: all it keeps). */
function history(context: AdminContext, params: URLSearchParams): JsonAnswer {
  const raw = params.get('after') ?? '0';
  if (!/^[0-9]{1,15}$/.test(raw)) throw new BadRequest('after', 'after is a time in whole ms since the epoch, in plain digits');
  const after = Number(raw);
  return { status: 200, body: { samples: context.timeline.samplesAfter(after) } };
}

async function stats(context: AdminContext): Promise<Record<string, unknown>> {
  const [counts, summary] = await Promise.all([context.backend.counts(), context.backend.reader.summary(SUMMARY_TOP, SUMMARY_TOP)]);
  return {
    packages: counts.packages,
    dependencies: counts.dependencies,
    connections: context.openConnections(),
    uptimeSeconds: Math.round(context.uptimeSeconds()),
    commandsPerSecond: Math.round(context.commandsPerSecond() * 10) / 10,
    ...summary,
  };
}
