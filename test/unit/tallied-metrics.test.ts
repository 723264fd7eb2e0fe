import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../../src/metrics.js';

const LATENCY = 'package_indexer_command_duration_seconds';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('command latency comes out as cumulative histogram buckets with their sum and count', async () => {
  const metrics = createMetrics({ processMetrics: false });
  metrics.countCommand('INDEX', 'OK', 0.00003);
  metrics.countCommand('INDEX', 'FAIL', 0.002);
  metrics.countCommand('INDEX', 'OK', 7);
  metrics.countCommand('QUERY', 'OK', 0.0001);
  const text = await metrics.registry.metrics();
  assert.equal(sample(text, `${LATENCY}_bucket{le="0.00005",command="INDEX"}`), 1);
  assert.equal(sample(text, `${LATENCY}_bucket{le="0.001",command="INDEX"}`), 1);
  assert.equal(sample(text, `${LATENCY}_bucket{le="0.0025",command="INDEX"}`), 2);
  assert.equal(sample(text, `${LATENCY}_bucket{le="0.5",command="INDEX"}`), 2);
  assert.equal(sample(text, `${LATENCY}_bucket{le="+Inf",command="INDEX"}`), 3);
  assert.equal(sample(text, `${LATENCY}_count{command="INDEX"}`), 3);
  assert.ok(Math.abs((sample(text, `${LATENCY}_sum{command="INDEX"}`) ?? 0) - 7.00203) < 1e-9);
  // a bound equal to the value counts it ([le] is "less than or equal")
  assert.equal(sample(text, `${LATENCY}_bucket{le="0.0001",command="QUERY"}`), 1);
  assert.equal(sample(text, `${LATENCY}_bucket{le="+Inf",command="REMOVE"}`), 0);
  assert.equal(sample(text, 'package_indexer_commands_total{command="INDEX",result="OK"}'), 2);
});

test('tallied totals are read afresh at every scrape', async () => {
  const metrics = createMetrics({ processMetrics: false });
  metrics.countCommand('REMOVE', 'OK', 0.01);
  metrics.countProtocolError('field-count');
  metrics.receivedBytes.inc(5);
  await metrics.registry.metrics();
  metrics.countCommand('REMOVE', 'OK', 0.01);
  metrics.countProtocolError('field-count');
  metrics.receivedBytes.inc(5);
  const text = await metrics.registry.metrics();
  assert.equal(sample(text, `${LATENCY}_count{command="REMOVE"}`), 2);
  assert.equal(sample(text, 'package_indexer_commands_total{command="REMOVE",result="OK"}'), 2);
  assert.equal(sample(text, 'package_indexer_protocol_errors_total{reason="field-count"}'), 2);
  assert.equal(sample(text, 'package_indexer_received_bytes_total'), 10);
});
