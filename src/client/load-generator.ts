/**
 * Drives load from one thread: many sockets, each keeping `pipeline` requests in flight, replies
 * matched in order by ProtocolClient (protocol-client.ts). A warmup runs first, unrecorded; then
 * every reply within the measured window is counted and its latency (send to reply) goes into a
 * histogram.
 * One process is the right shape on a small machine: a second generator process would take the
 * core the server under test needs.
 */
import { Random } from '../dataset/random.js';
import { connectMany, type Endpoint } from './connect-many.js';
import type { ProtocolClient, ReplyWaiter } from './protocol-client.js';
import type { Reply } from '../protocol/types.js';
import { createLatencyHistogram, recordLatency, summarizeLatency, type LatencySummary } from './latency-histogram.js';
import type { Workload, WorkloadStream } from './workload.js';
import { withTimeout } from '../with-timeout.js';

export interface LoadOptions {
  readonly targets: readonly Endpoint[];
  readonly workload: Workload;
  /** Sockets, spread over the targets round-robin. */
  readonly connections: number;
  /** Requests in flight per socket; 1 is ping-pong. */
  readonly pipeline: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly seed: number;
  /** Reads the server's CPU time in ms, when it is a process we can watch. */
  readonly serverCpuMs?: () => number;
}

export interface LoadResult {
  /** Replies received in the measured window. */
  readonly requests: number;
  readonly durationMs: number;
  readonly requestsPerSecond: number;
  readonly latency: LatencySummary;
  readonly replies: { readonly OK: number; readonly FAIL: number; readonly ERROR: number };
  /** Connections that failed during the run. */
  readonly connectionErrors: number;
  /** The server's CPU time per request in the measured window, in µs, when it could be read. */
  readonly serverCpuUsPerRequest: number | undefined;
}

class Recorder {
  readonly histogram = createLatencyHistogram();
  readonly replies = { OK: 0, FAIL: 0, ERROR: 0 };
  recording = false;
  stopping = false;
  connectionErrors = 0;

  record(reply: Reply, sentAt: number, now: number): void {
    if (!this.recording) return;
    this.replies[reply]++;
    recordLatency(this.histogram, now - sentAt);
  }
}

/**
 * One socket's loop: each reply sends the next request, keeping `pipeline` in flight. It is the
 * ReplyWaiter of all its requests, so a request costs no promise or closure, and the requests that
 * the replies of one chunk release go out in one write (ProtocolClient gathers them).
 */
class LoadConnection implements ReplyWaiter {
  readonly #client: ProtocolClient;
  readonly #stream: WorkloadStream;
  readonly #recorder: Recorder;
  /** Send times of the requests in flight, a ring in send order: replies come back in that order. */
  readonly #sentAt: Float64Array;
  #oldest = 0;
  #inFlight = 0;
  #failed = false;
  #idle: (() => void) | undefined;

  constructor(client: ProtocolClient, stream: WorkloadStream, recorder: Recorder, pipeline: number) {
    this.#client = client;
    this.#stream = stream;
    this.#recorder = recorder;
    this.#sentAt = new Float64Array(pipeline);
  }

  start(): void {
    for (let k = 0; k < this.#sentAt.length; k++) this.#send();
  }

  /** Resolves when the requests still in flight are answered (after `stopping` is set). */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idle = resolve;
    });
  }

  close(): void {
    this.#client.close();
  }

  resolve(reply: Reply): void {
    const sentAt = this.#sentAt[this.#oldest] ?? 0;
    this.#oldest = (this.#oldest + 1) % this.#sentAt.length;
    this.#inFlight--;
    this.#recorder.record(reply, sentAt, performance.now());
    if (!this.#recorder.stopping) this.#send();
    else if (this.#inFlight === 0) this.#idle?.();
  }

  /** The connection failed: counted once, however many requests it still owed. */
  reject(): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#inFlight = 0;
    this.#recorder.connectionErrors++;
    this.#idle?.();
  }

  #send(): void {
    this.#sentAt[(this.#oldest + this.#inFlight) % this.#sentAt.length] = performance.now();
    this.#inFlight++;
    this.#client.send(this.#stream.next(), this);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Longest wait for the requests in flight when the run ends, in ms. */
const DRAIN_TIMEOUT_MS = 5_000;

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { targets, workload, connections, pipeline, warmupMs, durationMs, seed } = options;
  const recorder = new Recorder();
  const random = new Random(seed);
  const clients = await connectMany(targets, connections);
  const loops = clients.map((client, c) => new LoadConnection(client, workload.stream(random.fork(c)), recorder, pipeline));
  try {
    for (const loop of loops) loop.start();
    await sleep(warmupMs);
    const cpuAtStart = options.serverCpuMs?.();
    recorder.recording = true;
    const startedAt = performance.now();
    await sleep(durationMs);
    recorder.recording = false;
    const measuredMs = performance.now() - startedAt;
    const cpuMs = cpuAtStart === undefined ? undefined : (options.serverCpuMs?.() ?? cpuAtStart) - cpuAtStart;
    recorder.stopping = true;
    await withTimeout(Promise.all(loops.map((loop) => loop.idle())), DRAIN_TIMEOUT_MS);
    const requests = recorder.histogram.count;
    return {
      requests,
      durationMs: measuredMs,
      requestsPerSecond: requests / (measuredMs / 1000),
      latency: summarizeLatency(recorder.histogram),
      replies: { ...recorder.replies },
      connectionErrors: recorder.connectionErrors,
      serverCpuUsPerRequest: cpuMs === undefined || requests === 0 ? undefined : (cpuMs * 1000) / requests,
    };
  } finally {
    for (const loop of loops) loop.close();
  }
}
