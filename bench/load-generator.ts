/**
 * Drives load from one thread: many sockets, each keeping `pipeline` requests in flight, replies
 * matched in order by the CLI's ProtocolClient. A warmup runs first, unrecorded; then every reply
 * within the measured window is counted and its latency (send to reply) goes into a histogram.
 * One process is the right shape on a small machine: a second generator process would take the
 * core the server under test needs.
 */
import { Random } from '../src/dataset/random.js';
import { connectMany, type Endpoint } from '../src/cli/connect-many.js';
import type { ProtocolClient } from '../src/cli/protocol-client.js';
import type { Reply } from '../src/protocol/types.js';
import { LatencyHistogram, type LatencySummary } from './latency-histogram.js';
import type { Workload, WorkloadStream } from './workload.js';

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
  readonly histogram = new LatencyHistogram();
  readonly replies = { OK: 0, FAIL: 0, ERROR: 0 };
  recording = false;
  stopping = false;
  connectionErrors = 0;

  record(reply: Reply, sentAt: number, now: number): void {
    if (!this.recording) return;
    this.replies[reply]++;
    this.histogram.record((now - sentAt) * 1000);
  }
}

/**
 * One socket's loop: each reply sends the next request, keeping `pipeline` in flight. Replies
 * that arrive in one chunk are answered by one write (cork/uncork around their requests), as a
 * pipelining client would; a write per request would make the generator, not the server, the
 * bottleneck.
 */
class LoadConnection {
  readonly #client: ProtocolClient;
  readonly #stream: WorkloadStream;
  readonly #recorder: Recorder;
  #inFlight = 0;
  /** Replies received whose follow-up request is not sent yet. */
  #owed = 0;
  #flushQueued = false;
  #idle: (() => void) | undefined;

  constructor(client: ProtocolClient, stream: WorkloadStream, recorder: Recorder) {
    this.#client = client;
    this.#stream = stream;
    this.#recorder = recorder;
  }

  start(pipeline: number): void {
    this.#owed = pipeline;
    this.#flush();
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

  readonly #flush = (): void => {
    this.#flushQueued = false;
    const count = this.#owed;
    this.#owed = 0;
    if (this.#recorder.stopping) {
      if (this.#inFlight === 0) this.#idle?.();
      return;
    }
    const socket = this.#client.socket;
    if (count > 1) socket.cork();
    for (let k = 0; k < count; k++) this.#send();
    if (count > 1) socket.uncork();
  };

  #send(): void {
    const sentAt = performance.now();
    this.#inFlight++;
    this.#client.request(this.#stream.next()).then(
      (reply) => {
        this.#inFlight--;
        this.#recorder.record(reply, sentAt, performance.now());
        this.#owed++;
        // the replies of one chunk settle in one run of the microtask queue: this flush runs after them
        if (!this.#flushQueued) {
          this.#flushQueued = true;
          queueMicrotask(this.#flush);
        }
      },
      () => {
        this.#inFlight = 0;
        this.#recorder.connectionErrors++;
        this.#idle?.();
      },
    );
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { targets, workload, connections, pipeline, warmupMs, durationMs, seed } = options;
  const recorder = new Recorder();
  const random = new Random(seed);
  const clients = await connectMany(targets, connections);
  const loops = clients.map((client, c) => new LoadConnection(client, workload.stream(random.fork(c)), recorder));
  try {
    for (const loop of loops) loop.start(pipeline);
    await sleep(warmupMs);
    const cpuAtStart = options.serverCpuMs?.();
    recorder.recording = true;
    const startedAt = performance.now();
    await sleep(durationMs);
    recorder.recording = false;
    const measuredMs = performance.now() - startedAt;
    const cpuMs = cpuAtStart === undefined ? undefined : (options.serverCpuMs?.() ?? cpuAtStart) - cpuAtStart;
    recorder.stopping = true;
    await Promise.race([Promise.all(loops.map((loop) => loop.idle())), sleep(5_000)]);
    const requests = recorder.histogram.count;
    return {
      requests,
      durationMs: measuredMs,
      requestsPerSecond: requests / (measuredMs / 1000),
      latency: recorder.histogram.summary(),
      replies: { ...recorder.replies },
      connectionErrors: recorder.connectionErrors,
      serverCpuUsPerRequest: cpuMs === undefined || requests === 0 ? undefined : (cpuMs * 1000) / requests,
    };
  } finally {
    for (const loop of loops) loop.close();
  }
}
