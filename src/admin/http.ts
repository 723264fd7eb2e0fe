/**
 * The admin listener for operators: Prometheus metrics, liveness and readiness, a read-only JSON
 * view of the index and the console that draws it. It runs beside the protocol port and never
 * changes the index.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import type { Metrics } from '../metrics.js';
import type { Backend, IndexCounts } from '../store/backend.js';
import { AdminToken, isLoopback } from './admin-token.js';
import { CommandRate } from './command-rate.js';
import { AdminConnectionLimit } from './connection-limit.js';
import { ConsoleAssets } from './console-assets.js';
import { MetricsTimeline } from './metrics-timeline.js';
import { routeRequest, type AdminContext } from './routes.js';

export interface AdminOptions {
  readonly backend: Backend;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** True once the store is loaded and the protocol port listens; false again from shutdown on. */
  readonly isReady: () => boolean;
  /** Protocol connections being served now. */
  readonly openConnections: () => number;
  /** Admin connections held at once. */
  readonly connectionLimit: number;
  /**
   * How long a peer may take to send a request's headers (and a new connection to begin its
   * first request), in ms; a slower one is closed. @default 10000
   */
  readonly headersTimeoutMs?: number;
  /** Required of every request but the health probes; undefined admits anyone. */
  readonly token?: string | undefined;
  /** Where the built console is; by default dist/console beside this module. */
  readonly consoleDir?: string;
}

/** Between requests on a kept-alive connection, in ms: node:http's own default. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

export class AdminServer {
  #http: http.Server;
  #rate: CommandRate;
  #timeline: MetricsTimeline;
  #options: AdminOptions;

  constructor(options: AdminOptions) {
    registerIndexGauges(options.metrics, options.backend);
    this.#options = options;
    this.#rate = new CommandRate(() => options.metrics.totals.commands);
    this.#timeline = new MetricsTimeline(options.metrics.registry);
    const startedAt = Date.now();
    const context: AdminContext = {
      ...options,
      uptimeSeconds: () => (Date.now() - startedAt) / 1000,
      commandsPerSecond: () => this.#rate.perSecond(),
      timeline: this.#timeline,
      token: options.token === undefined ? undefined : new AdminToken(options.token),
      assets: ConsoleAssets.load(options.consoleDir),
    };
    const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
    const limit = new AdminConnectionLimit({
      limit: options.connectionLimit,
      firstRequestTimeoutMs: headersTimeoutMs,
      registry: options.metrics.registry,
      logger: options.logger,
    });
    // GET requests have no body, so the whole request is due when its headers are; the check
    // runs often enough that a slow peer is closed close to its deadline (node:http's is 30 s)
    this.#http = http.createServer(
      {
        headersTimeout: headersTimeoutMs,
        requestTimeout: headersTimeoutMs,
        connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs),
      },
      (request, response) => {
        limit.requestStarted(request.socket);
        response.once('close', () => limit.requestEnded(request.socket));
        routeRequest(context, request, response).catch((error: unknown) => {
          options.logger.error({ err: error, url: request.url }, 'admin request failed');
          if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ error: 'internal', message: 'the request failed; see the server log' }));
        });
      },
    );
    this.#http.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    this.#http.on('connection', limit.admit);
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen({ port, host }, () => {
        this.#http.off('error', reject);
        resolve();
      });
    });
    if (this.#options.token === undefined && !isLoopback(host)) {
      this.#options.logger.warn(
        { adminHost: host },
        'the admin port listens beyond loopback with no --admin-token: anyone who can reach it can read the index and the metrics',
      );
    }
    return this.#http.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.#rate.stop();
    this.#timeline.stop();
    const closed = new Promise<void>((resolve) => this.#http.close(() => resolve()));
    this.#http.closeAllConnections();
    await closed;
  }
}

/**
 * Index size gauges, read from the backend at scrape time rather than tracked on the hot path.
 * On PostgreSQL a read counts two tables, so both gauges share one: the registry starts every
 * metric's collect() in one pass, and the second finds the first's read still in flight.
 */
function registerIndexGauges(metrics: Metrics, backend: Backend): void {
  let reading: Promise<IndexCounts> | undefined;
  const readCounts = (): Promise<IndexCounts> => (reading ??= backend.counts().finally(() => (reading = undefined)));
  const registers = [metrics.registry];
  new Gauge({
    name: 'package_indexer_packages',
    help: 'Indexed packages.',
    registers,
    async collect() {
      this.set((await readCounts()).packages);
    },
  });
  new Gauge({
    name: 'package_indexer_dependency_edges',
    help: 'Dependency edges between indexed packages.',
    registers,
    async collect() {
      this.set((await readCounts()).dependencies);
    },
  });
}
