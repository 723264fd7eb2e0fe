/**
 * Logs to syslog: real receivers (UDP datagrams, octet-counted TCP frames, line feed framed unix
 * stream frames) get RFC 5424 records whose header says who sent them and how severe they are,
 * and whose message is the pino record; `serve` sends its own records there, up to the last one
 * written before it exits.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { resolveConfig, type LogLevel } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/log.js';
import { startServe } from '../helpers/serve-child.js';
import { RawClient, waitFor } from '../helpers/server-harness.js';
import { tcpReceiver, udpReceiver, unixReceiver, type SyslogReceiver, type SyslogRecord } from '../helpers/syslog-receiver.js';

/** RFC 5424 severities of pino's levels (fatal is critical, as pino-syslog maps it). */
const SEVERITY: Readonly<Record<Exclude<LogLevel, 'silent'>, number>> = { trace: 7, debug: 7, info: 6, warn: 4, error: 3, fatal: 2 };
const PINO_LEVEL: Readonly<Record<Exclude<LogLevel, 'silent'>, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
/** local0, pino-syslog's default facility. */
const FACILITY = 16;
const LEVELS = Object.keys(SEVERITY) as Array<Exclude<LogLevel, 'silent'>>;

const RECEIVERS: ReadonlyArray<readonly [string, (t: TestContext) => Promise<SyslogReceiver>]> = [
  ['UDP datagrams', udpReceiver],
  ['octet-counted TCP frames', (t) => tcpReceiver(t)],
  ['line feed framed unix stream frames', unixReceiver],
];

async function syslogLogger(t: TestContext, destination: string, reports: string[]): Promise<Logger> {
  const { logDestination } = resolveConfig({ 'log-destination': destination }, {});
  const logger = await createLogger({ logLevel: 'trace', logFormat: 'json', logDestination }, (line) => reports.push(line));
  t.after(() => {
    // ends the transport's worker thread now rather than at process exit
    const transport = (logger as unknown as Record<symbol, { end(): void }>)[pino.symbols.streamSym];
    transport?.end();
  });
  return logger;
}

/** The header fields every record of this process carries. */
function assertHeaderOf(record: SyslogRecord, pid: number): void {
  assert.equal(record.version, 1);
  assert.match(record.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$/);
  // pino-syslog sends whole seconds
  assert.equal(Date.parse(record.timestamp), Math.floor(Number(record.log.time) / 1000) * 1000);
  assert.equal(record.hostname, os.hostname());
  assert.equal(record.appName, 'package-indexer');
  assert.equal(record.procId, String(pid));
  assert.equal(record.msgId, '-');
  assert.equal(record.structuredData, '-');
}

describe('createLogger with a syslog destination', () => {
  for (const [name, startReceiver] of RECEIVERS) {
    test(`sends one RFC 5424 record per log call as ${name}, with the severity of its level`, async (t) => {
      const receiver = await startReceiver(t);
      const reports: string[] = [];
      const logger = await syslogLogger(t, receiver.destination, reports);
      for (const level of LEVELS) logger[level]({ level_name: level }, `a ${level} record`);

      await waitFor(() => receiver.records.length >= LEVELS.length, 10_000, 'a record of every level');
      assert.deepEqual(receiver.malformed, []);
      assert.deepEqual(
        receiver.records.map((record) => record.log.msg),
        LEVELS.map((level) => `a ${level} record`),
      );
      for (const [index, level] of LEVELS.entries()) {
        const record = receiver.records[index]!;
        assert.equal(record.priority, FACILITY * 8 + SEVERITY[level], level);
        assertHeaderOf(record, process.pid);
        assert.equal(record.log.level, PINO_LEVEL[level]);
        assert.equal(record.log.level_name, level);
        assert.equal(record.log.pid, process.pid);
      }
      assert.equal(receiver.records[LEVELS.indexOf('info')]!.priority, 134);
      assert.equal(receiver.records[LEVELS.indexOf('warn')]!.priority, 132);
      assert.deepEqual(reports, []);
    });
  }

  test('keeps every record whole in a TCP stream, however long, when many are written at once', async (t) => {
    const receiver = await tcpReceiver(t);
    const logger = await syslogLogger(t, receiver.destination, []);
    const count = 200;
    for (let index = 0; index < count; index++) logger.info({ index, padding: 'x'.repeat(index * 50), text: 'line\nfeed and ünïcödé' }, 'bulk');

    await waitFor(() => receiver.records.length >= count, 10_000, `${count} records`);
    assert.deepEqual(receiver.malformed, []);
    assert.deepEqual(
      receiver.records.map((record) => record.log.index),
      Array.from({ length: count }, (_, index) => index),
    );
    assert.equal(receiver.records[count - 1]!.log.text, 'line\nfeed and ünïcödé');
  });
});

describe('serve --log-destination', () => {
  for (const [name, startReceiver] of RECEIVERS) {
    test(`sends serve's records as ${name}, up to the one it writes just before exiting`, { timeout: 30_000 }, async (t) => {
      const receiver = await startReceiver(t);
      const serve = await startServe(t, ['--in-memory', '--log-destination', receiver.destination]);

      const listening = await receiver.waitForMessage('package-indexer listening');
      assert.equal(listening.priority, 134);
      assertHeaderOf(listening, serve.pid);
      assert.deepEqual((listening.log.address as { port: number }).port, serve.port);
      const client = await RawClient.connect(t, serve.port);
      assert.deepEqual(await client.exchange('INDEX|a|', 'QUERY|a|'), ['OK', 'OK']);

      serve.kill('SIGTERM');
      const result = await serve.finished;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, '', 'nothing is logged on stdout');
      assert.equal(result.stderr, '');
      await receiver.waitForMessage('stopped');
      assert.deepEqual(receiver.malformed, []);
    });
  }
});
