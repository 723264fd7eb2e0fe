/**
 * The admin port's bounds: which parameter values it accepts. Each test runs a real admin
 * listener on port 0.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { test, type TestContext } from 'node:test';
import { startIndexer, type BackendFactory, type RunningIndexer } from '../../src/cli/indexer.js';
import { resolveConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';

async function startWithAdmin(t: TestContext, flags: Record<string, string>, makeBackend?: BackendFactory): Promise<RunningIndexer & { adminPort: number }> {
  const config = resolveConfig({ port: '0', host: '127.0.0.1', 'admin-port': '0', 'in-memory': true, ...flags }, {});
  const indexer = await startIndexer(config, silentLogger(), makeBackend);
  t.after(() => indexer.stop());
  return { ...indexer, adminPort: indexer.adminAddress?.port ?? 0 };
}

/** A GET on a connection of its own: the status, or the error if the connection ends first. */
function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
    });
    request.once('error', reject);
  });
}

test('the page limit is plain decimal digits from 1 to 1000', async (t) => {
  const indexer = await startWithAdmin(t, {});
  for (const limit of ['1e3', '0x10', '+5', '%205', '5%20', '5.0', '-1', '0', '1001', '', 'ten', '99999999999999999999']) {
    const response = await fetch(`http://127.0.0.1:${indexer.adminPort}/v1/packages?limit=${limit}`);
    assert.equal(response.status, 400, `limit=${limit}`);
    assert.equal(((await response.json()) as { parameter: string }).parameter, 'limit');
  }
  for (const limit of ['1', '05', '1000']) {
    assert.equal(await get(indexer.adminPort, `/v1/packages?limit=${limit}`), 200, `limit=${limit}`);
  }
});
