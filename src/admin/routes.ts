/**
 * The admin endpoints: operations (metrics, health, readiness), the read API and the change feed.
 * Parameters are validated by the protocol's own rules; a bad one gets 400 with a JSON body naming
 * it. `HEAD` is answered like `GET` without a body (node:http drops it).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { streamChanges } from './change-stream.js';
import { streamExport, streamSnapshot } from './export-stream.js';
import { cyclesRoute, listRoute, packageRoute, pathRoute, type JsonAnswer } from './graph-routes.js';
import type { AdminOptions } from './http.js';
import { OPENAPI } from './openapi.js';
import { BadRequest } from './parameters.js';

export interface AdminContext extends AdminOptions {
  readonly uptimeSeconds: () => number;
  readonly commandsPerSecond: () => number;
}

/** How many of the most depended-upon packages, roots and leaves `/v1/stats` lists. */
const SUMMARY_TOP = 10;

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
    if (url.pathname === '/v1/changes') streamChanges(context.backend.changes, request, response, url.searchParams);
    else if (url.pathname === '/v1/export') await streamExport(context.backend, request, response, url.searchParams);
    else if (url.pathname === '/v1/snapshot') await streamSnapshot(context.backend, request, response);
    else await dispatch(context, url, response);
  } catch (error) {
    if (!(error instanceof BadRequest)) throw error;
    sendJson(response, 400, { error: 'bad-request', parameter: error.parameter, message: error.message });
  }
}

async function dispatch(context: AdminContext, url: URL, response: ServerResponse): Promise<void> {
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
  else if (path === '/v1/packages') answer = await listRoute(reader, url.searchParams);
  else if (path.startsWith('/v1/packages/')) answer = await packageRoute(reader, path, url.searchParams);
  else if (path === '/v1/path') answer = await pathRoute(reader, url.searchParams);
  else if (path === '/v1/cycles') answer = await cyclesRoute(reader, url.searchParams);
  else if (path === '/v1/openapi.json') answer = { status: 200, body: OPENAPI };
  else answer = { status: 404, body: { error: 'not-found' } };
  sendJson(response, answer.status, answer.body);
}

function readiness(context: AdminContext): JsonAnswer {
  const ready = context.isReady() && context.backend.isAvailable();
  return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not-ready' } };
}

async function stats(context: AdminContext): Promise<Record<string, unknown>> {
  const [counts, summary] = await Promise.all([
    context.backend.counts(),
    context.backend.reader.summary(SUMMARY_TOP, SUMMARY_TOP),
  ]);
  return {
    packages: counts.packages,
    dependencies: counts.dependencies,
    connections: context.openConnections(),
    uptimeSeconds: Math.round(context.uptimeSeconds()),
    commandsPerSecond: Math.round(context.commandsPerSecond() * 10) / 10,
    ...summary,
  };
}
