/**
 * What the console costs a browser: loads a dataset into a spawned server through the protocol,
 * then opens the overview and a package page in headless Chromium with an empty cache, and
 * prints the bytes over the wire (compressed, as the browser received them) and the time from
 * navigation to a drawn page, the median of several runs; then the same with a warm cache.
 *
 *   node dist/bench/console-page.js --data /path/to/brew-dependencies.txt --package openssl
 *   node dist/bench/console-page.js --packages 1000000 [--mean-deps 3] [--runs 5]
 *
 * Without --package it opens the most depended-upon package.
 */
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { sendAll } from '../src/cli/bench.js';
import { MAIN_SCRIPT, startChildServer } from '../src/client/child-server.js';
import { generateDataset } from '../src/dataset/generate.js';
import { readHomebrewDump } from '../src/dataset/homebrew.js';
import { launchChromium } from '../src/dev/headless-chromium.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    packages: { type: 'string', default: '10000' },
    'mean-deps': { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    package: { type: 'string' },
    runs: { type: 'string', default: '5' },
  },
});

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const median = (numbers: readonly number[]): number => [...numbers].sort((a, b) => a - b)[numbers.length >> 1] ?? Number.NaN;

const dataset =
  values.data === undefined
    ? generateDataset({ packages: Number(values.packages), meanDeps: Number(values['mean-deps']), seed: Number(values.seed) })
    : await readHomebrewDump(values.data);
const server = await startChildServer(MAIN_SCRIPT, ['serve', '--port', '0', '--admin-port', '0', '--in-memory']);
try {
  const loadStartedAt = performance.now();
  await sendAll({ host: '127.0.0.1', port: server.port }, dataset, 'INDEX');
  log(`indexed ${dataset.length} packages in ${((performance.now() - loadStartedAt) / 1000).toFixed(1)} s`);
  const origin = `http://127.0.0.1:${String(server.adminPort)}`;
  const stats = (await (await fetch(`${origin}/v1/stats`)).json()) as { mostDependedUpon: Array<{ name: string; count: number }> };
  const name = values.package ?? stats.mostDependedUpon[0]?.name ?? dataset[0]?.name ?? '';
  const describe = (await (await fetch(`${origin}/v1/packages/${encodeURIComponent(name)}?limit=1`)).json()) as {
    dependencies: string[];
    dependentsTotal: number;
  };
  log(`package ${name}: ${describe.dependencies.length} dependencies, ${describe.dependentsTotal} dependents`);
  const browser = await launchChromium();
  try {
    const pages = [
      { label: 'overview', url: `${origin}/`, drawn: '.tile' },
      { label: `package ${name}`, url: `${origin}/packages/${encodeURIComponent(name)}`, drawn: '.graph[data-state=drawn]' },
    ];
    for (const { label, url, drawn } of pages) {
      for (const cache of ['cold', 'warm'] as const) {
        const runs: Array<{ bytes: number; ms: number; requests: number }> = [];
        for (let run = 0; run < Number(values.runs); run++) runs.push(await visit(await browser.context.newPage(), url, drawn, cache === 'cold'));
        const result = {
          page: label,
          cache,
          kib: median(runs.map((r) => r.bytes)) / 1024,
          requests: median(runs.map((r) => r.requests)),
          drawnMs: median(runs.map((r) => r.ms)),
          runs: runs.length,
        };
        process.stdout.write(
          `${JSON.stringify({ ...result, kib: Math.round(result.kib * 10) / 10, dataset: values.data ?? `${dataset.length} generated` })}\n`,
        );
      }
    }
  } finally {
    await browser.close();
  }
} finally {
  await server.stop();
}

/** Opens `url` and waits for `drawn`; returns the bytes received until then and the time to it. */
async function visit(page: Page, url: string, drawn: string, emptyCache: boolean): Promise<{ bytes: number; ms: number; requests: number }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  if (emptyCache) await cdp.send('Network.clearBrowserCache');
  let bytes = 0;
  let requests = 0;
  cdp.on('Network.loadingFinished', (event: { encodedDataLength: number }) => {
    bytes += event.encodedDataLength;
    requests++;
  });
  await page.goto(url);
  await page.locator(drawn).first().waitFor({ timeout: 120_000 });
  // the page stamps when its drawing was painted; the overview, when its first tiles appeared
  const stamp = await page.locator(drawn).first().getAttribute('data-drawn-at-ms');
  const ms = stamp === null ? await page.evaluate(() => performance.now()) : Number(stamp);
  const received = { bytes, ms: Math.round(ms), requests };
  await page.close();
  return received;
}
