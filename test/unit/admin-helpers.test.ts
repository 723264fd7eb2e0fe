/**
 * The admin port's small decisions, case by case: which hosts are loopback, which encoding a
 * client accepts, which credentials carry the token, and the latency quantile the charts show.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdminToken, isLoopback } from '../../src/admin/admin-token.js';
import { preferredEncoding } from '../../src/admin/console-assets.js';
import { quantileMs } from '../../src/admin/metrics-timeline.js';

test('only loopback addresses count as loopback', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.equal(isLoopback(host), true, host);
  for (const host of ['0.0.0.0', '::', '', '10.0.0.1', '192.168.1.1', 'example.org', '::ffff:10.0.0.1', '128.0.0.1'])
    assert.equal(isLoopback(host), false, host);
});

test('brotli is preferred, then gzip, and q=0 refuses an encoding', () => {
  assert.equal(preferredEncoding(undefined), undefined);
  assert.equal(preferredEncoding('gzip, deflate, br'), 'br');
  assert.equal(preferredEncoding('gzip'), 'gzip');
  assert.equal(preferredEncoding('br;q=0, gzip;q=0.5'), 'gzip');
  assert.equal(preferredEncoding('BR'), 'br');
  assert.equal(preferredEncoding('identity'), undefined);
  assert.equal(preferredEncoding('gzip;q=0.000'), undefined);
});

test('the token is admitted as a Bearer token or a Basic password with any user, nothing else', () => {
  const token = new AdminToken('s3cret');
  const basic = (text: string): string => `Basic ${Buffer.from(text).toString('base64')}`;
  assert.equal(token.admits('/v1/stats', 'Bearer s3cret'), true);
  assert.equal(token.admits('/v1/stats', 'bearer   s3cret'), true);
  assert.equal(token.admits('/v1/stats', basic('anyone:s3cret')), true);
  assert.equal(token.admits('/v1/stats', basic(':s3cret')), true);
  for (const wrong of [undefined, '', 'Bearer', 'Bearer s3cre', 'Bearer s3cret2', basic('s3cret'), basic('s3cret:'), 'Basic !!!', 'Digest s3cret']) {
    assert.equal(token.admits('/v1/stats', wrong), false, String(wrong));
  }
  assert.equal(token.admits('/healthz', undefined), true);
  assert.equal(token.admits('/readyz', undefined), true);
  assert.equal(token.admits('/healthz/', undefined), false);
});

test('the quantile interpolates inside the bucket that holds it, as histogram_quantile does', () => {
  const reading = (counts: Array<[number, number]>): Map<number, number> => new Map(counts);
  const before = reading([
    [0.001, 10],
    [0.01, 10],
    [Number.POSITIVE_INFINITY, 10],
  ]);
  // 100 new observations: 50 up to 1 ms, 50 between 1 and 10 ms
  const after = reading([
    [0.001, 60],
    [0.01, 110],
    [Number.POSITIVE_INFINITY, 110],
  ]);
  assert.equal(quantileMs(0.5, before, after), 1);
  assert.equal(quantileMs(0.99, before, after), 9.82);
  assert.equal(quantileMs(0.25, before, after), 0.5);
  assert.equal(quantileMs(0.99, after, after), null);
  // beyond the last finite bound, the best known is that bound
  const slow = reading([
    [0.001, 10],
    [0.01, 10],
    [Number.POSITIVE_INFINITY, 20],
  ]);
  assert.equal(quantileMs(0.99, before, slow), 10);
});
