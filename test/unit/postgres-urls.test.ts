/**
 * Multi-host database URLs (`h1:5432,h2:5432`), which name a database that fails over, reach the
 * client library in a form it uses as we mean: `new URL` refuses them, so they are split by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostPortsOf, routeToWritable } from '../../src/store/postgres-hosts.js';
import { hostsOf, withSessionOptions } from '../../src/store/postgres-pool.js';

const CLIENT_OPTIONS = {};

test('a multi-host URL keeps its hosts and its own session options', () => {
  const { url, options } = withSessionOptions('postgres://u:p@h1:5432,h2:5433/index?options=-c%20statement_timeout%3D5s&sslmode=disable');
  assert.equal(url, 'postgres://u:p@h1:5432,h2:5433/index?sslmode=disable');
  assert.equal(options, '-c statement_timeout=5s -c default_transaction_isolation=repeatable\\ read');
});

test('a URL with no parameters stays without them', () => {
  assert.equal(withSessionOptions('postgres://u:p@h1,h2/x').url, 'postgres://u:p@h1,h2/x');
  assert.equal(withSessionOptions('postgres://u:p@db:5432/x').url, 'postgres://u:p@db:5432/x');
});

test('the hosts of a URL are read after the user info, whatever the password holds', () => {
  assert.deepEqual(hostsOf('postgres://u:p,@x@h1:1,h2:2/db?a=b'), ['h1:1', 'h2:2']);
  assert.deepEqual(hostPortsOf(['h1:1', 'h2', '[::1]:7']), [
    { host: 'h1', port: 1 },
    { host: 'h2', port: 5432 },
    { host: '::1', port: 7 },
  ]);
});

test('a single-host URL goes to the client as it is; a multi-host one through the writable-host finder, named by its first host, whose own target_session_attrs check is left out', () => {
  const single = routeToWritable('postgres://u:p@db:5432/x', ['db:5432'], CLIENT_OPTIONS, 1_000);
  assert.equal(single.finder, undefined);
  assert.equal(single.url, 'postgres://u:p@db:5432/x');
  const url = 'postgres://u:p@h1:5432,h2:5433/x?sslmode=disable&target_session_attrs=read-write';
  const multi = routeToWritable(url, hostsOf(url), CLIENT_OPTIONS, 1_000);
  assert.notEqual(multi.finder, undefined);
  assert.equal(multi.url, 'postgres://u:p@h1:5432/x?sslmode=disable');
  const standby = 'postgres://u:p@h1,h2/x?target_session_attrs=standby';
  assert.equal(routeToWritable(standby, hostsOf(standby), CLIENT_OPTIONS, 1_000).url, 'postgres://u:p@h1:5432/x');
});
