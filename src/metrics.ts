/**
 * The Prometheus metrics of one server, on a registry passed in (never the global one) so that
 * tests can run many servers in one process. What is counted per command or per chunk is tallied
 * in plain numbers (tallied-metrics.ts) and read at scrape time. With the admin port off nothing
 * can read them, so `disabledMetrics()` gives the same shape with no work behind it.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CommandName, ProtocolErrorReason, Reply } from './protocol/types.js';
import { CommandTally, talliedCounter, talliedLabelledCounter } from './tallied-metrics.js';

export interface CounterLike {
  inc(amount?: number): void;
}

export interface GaugeLike {
  set(value: number): void;
}

export interface HistogramLike {
  observe(value: number): void;
}

export interface Metrics {
  readonly registry: Registry;
  /** Commands answered since start, for rates that need no scrape. */
  readonly totals: { commands: number };
  countCommand(command: CommandName, reply: Reply, seconds: number): void;
  countProtocolError(reason: ProtocolErrorReason): void;
  readonly connectionsOpen: GaugeLike;
  readonly connectionsWaiting: GaugeLike;
  readonly connectionsAccepted: CounterLike;
  readonly connectionsRefused: CounterLike;
  readonly connectionErrors: CounterLike;
  readonly acceptFailures: CounterLike;
  readonly receivedBytes: CounterLike;
  readonly sentBytes: CounterLike;
  readonly commitDuration: HistogramLike;
  readonly commitBatchSize: HistogramLike;
  readonly commitFailures: CounterLike;
}

const NOOP = { inc(): void {}, set(): void {}, observe(): void {} };

/** Metrics that count nothing, for a server whose metrics nobody can read. */
export function disabledMetrics(): Metrics {
  const totals = { commands: 0 };
  return {
    registry: new Registry(),
    totals,
    countCommand() {
      totals.commands++;
    },
    countProtocolError() {},
    connectionsOpen: NOOP,
    connectionsWaiting: NOOP,
    connectionsAccepted: NOOP,
    connectionsRefused: NOOP,
    connectionErrors: NOOP,
    acceptFailures: NOOP,
    receivedBytes: NOOP,
    sentBytes: NOOP,
    commitDuration: NOOP,
    commitBatchSize: NOOP,
    commitFailures: NOOP,
  };
}

const PROTOCOL_ERROR_REASONS: readonly ProtocolErrorReason[] = [
  'field-count',
  'unknown-command',
  'invalid-name',
  'invalid-dependency',
  'unexpected-dependencies',
  'self-dependency',
  'line-too-long',
];

export function createMetrics(options: { registry?: Registry; processMetrics?: boolean } = {}): Metrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'package_indexer_' });
  const registers = [registry];

  const commands = new CommandTally(registry, {
    counterName: 'package_indexer_commands_total',
    counterHelp: 'Commands answered, by command and reply.',
    histogramName: 'package_indexer_command_duration_seconds',
    // timed in Connection (#dispatch to #reply): each command gets its batch's time, which starts
    // when the batch goes to the backend, not when its bytes were read
    histogramHelp:
      "Time from handing a command's batch to the backend to its replies, store commit included; not the wait behind an earlier batch, nor the socket write.",
    bucketsSeconds: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5],
  });
  const countProtocolError = talliedLabelledCounter(
    registry,
    'package_indexer_protocol_errors_total',
    'Lines answered ERROR, by reason.',
    'reason',
    PROTOCOL_ERROR_REASONS,
  );
  const totals = { commands: 0 };

  return {
    registry,
    totals,
    countCommand(command, reply, seconds) {
      totals.commands++;
      commands.record(command, reply, seconds);
    },
    countProtocolError,
    connectionsOpen: new Gauge({ name: 'package_indexer_connections_open', help: 'Connections being served.', registers }),
    connectionsWaiting: new Gauge({
      name: 'package_indexer_connections_waiting',
      help: 'Connections waiting for a slot under the connection limit.',
      registers,
    }),
    connectionsAccepted: new Counter({ name: 'package_indexer_connections_accepted_total', help: 'Connections accepted.', registers }),
    connectionsRefused: new Counter({
      name: 'package_indexer_connections_refused_total',
      help: 'Connections closed at once because the wait queue was full.',
      registers,
    }),
    connectionErrors: new Counter({
      name: 'package_indexer_connection_errors_total',
      help: 'Connections ended by a socket error or a peer that stopped reading.',
      registers,
    }),
    acceptFailures: new Counter({
      name: 'package_indexer_accept_failures_total',
      help: 'Failed accepts Node reported, plus once-a-second checks that found no file descriptor free (new connections are then closed unanswered).',
      registers,
    }),
    receivedBytes: talliedCounter(registry, 'package_indexer_received_bytes_total', 'Bytes read from clients.'),
    sentBytes: talliedCounter(registry, 'package_indexer_sent_bytes_total', 'Bytes written to clients.'),
    commitDuration: new Histogram({
      name: 'package_indexer_store_commit_duration_seconds',
      help: 'Time to commit one batch of changes to the store.',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers,
    }),
    commitBatchSize: new Histogram({
      name: 'package_indexer_store_commit_batch_size',
      help: 'Changed packages per store commit.',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers,
    }),
    commitFailures: new Counter({
      name: 'package_indexer_store_commit_failures_total',
      help: 'Store commits that failed; their replies became ERROR.',
      registers,
    }),
  };
}
