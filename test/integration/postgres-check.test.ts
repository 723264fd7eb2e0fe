import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runCheck } from '../../src/cli/check.js';
import { generateDataset } from '../../src/dataset/generate.js';
import { startPostgresServer, startTestPostgres, type TestPostgres } from '../helpers/postgres-harness.js';

let db: TestPostgres;
before(async () => {
  db = await startTestPostgres();
});
after(() => db?.close());

for (const lanes of [0, 2]) {
  test(`check at concurrency 100 passes against three servers sharing one database, ${lanes} of them with the QUERY lane`, async (t) => {
    const url = await db.createDatabase();
    const servers = [];
    for (let i = 0; i < 3; i++) servers.push(await startPostgresServer(t, url, { poolSize: 5, queryLane: i < lanes }));
    const dataset = generateDataset({ packages: 1500, seed: 5 });
    const result = await runCheck({ dataset, targets: servers.map(({ port }) => ({ host: '127.0.0.1', port })), concurrency: 100, brokenPercent: 5, seed: 5 });
    assert.equal(result.failure, undefined);
    assert.deepEqual(result.mismatches, []);
    assert.equal(result.passed, true);
    assert.deepEqual(await servers[0]?.backend.counts(), { packages: 0, dependencies: 0 });
    t.diagnostic(
      `${result.requests} requests in ${Math.round(result.durationMs)} ms; ${result.phases.map((phase) => `${phase.name}: ${phase.requests}`).join('; ')}`,
    );
  });
}
