/**
 * The console end to end in headless Chromium (Debian's, driven by playwright-core), against a
 * real server loaded with a generated dataset and guarded by an admin token: search, a package
 * page checked against the dataset, a click in the drawing, back and reload, the path question,
 * an unknown name, the live chart. Every page fails the test on a console error or on a request
 * beyond the admin origin. Screenshots go to test-output/screenshots/ (git-ignored). Without
 * Chromium at /usr/bin/chromium (or $PACKAGE_INDEXER_CHROMIUM) every test here is skipped.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { sendAll } from '../../src/cli/bench.js';
import { ProtocolClient } from '../../src/client/protocol-client.js';
import { startIndexer, type RunningIndexer } from '../../src/cli/indexer.js';
import { resolveConfig } from '../../src/config.js';
import type { Package } from '../../src/dataset/dataset.js';
import { generateDataset } from '../../src/dataset/generate.js';
import { chromiumAvailable, CHROMIUM_PATH, launchChromium, type HeadlessChromium } from '../../src/dev/headless-chromium.js';
import { silentLogger } from '../../src/log.js';

const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/screenshots/', import.meta.url));
const TOKEN = 'console-test-token';
const DATASET = generateDataset({ packages: 2_000, meanDeps: 3, seed: 7 });
const DEADLINE_MS = 20_000;

const dependentsOf = (name: string): string[] => DATASET.filter((pkg) => pkg.deps.includes(name)).map((pkg) => pkg.name);
const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** A package with both dependencies and a few dependents, and a `/` in its name if one exists. */
const target = ((): Package => {
  const candidates = DATASET.filter((pkg) => pkg.deps.length >= 2 && dependentsOf(pkg.name).length >= 2);
  const found = candidates.find((pkg) => pkg.name.includes('/')) ?? candidates[0];
  assert.ok(found !== undefined, 'the dataset has a package with dependencies and dependents');
  return found;
})();

/** Each test is reported skipped, one by one, where there is no Chromium. */
const SKIP = chromiumAvailable() ? false : `no Chromium at ${CHROMIUM_PATH}`;

describe('the console in headless Chromium', () => {
  let indexer: RunningIndexer;
  let browser: HeadlessChromium;
  let origin: string;

  before(async () => {
    if (SKIP !== false) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    const config = resolveConfig({ port: '0', host: '127.0.0.1', 'admin-port': '0', 'in-memory': true, 'admin-token': TOKEN }, {});
    indexer = await startIndexer(config, silentLogger());
    await sendAll({ host: '127.0.0.1', port: indexer.address.port }, DATASET, 'INDEX');
    origin = `http://127.0.0.1:${indexer.adminAddress?.port}`;
    browser = await launchChromium();
    await browser.context.setHTTPCredentials({ username: 'console', password: TOKEN });
  });

  after(async () => {
    await browser?.close();
    await indexer?.stop();
  });

  /**
   * A fresh page that records what must not happen: console errors and requests elsewhere. The
   * browser logs every 4xx answer as an error; `refusals` lists the API paths whose 404 or 401
   * the test expects and the page handles.
   */
  async function openPage(refusals: readonly string[] = []): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const where = message.location().url;
      const expected =
        /^Failed to load resource: the server responded with a status of (401|404)/.test(message.text()) && refusals.includes(new URL(where, origin).pathname);
      if (!expected) problems.push(`console error: ${message.text()} (${where})`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      if (new URL(request.url()).origin !== origin) problems.push(`request beyond the origin: ${request.url()}`);
    });
    return { page, problems };
  }

  async function finish(page: Page, problems: string[], screenshot?: string): Promise<void> {
    if (screenshot !== undefined) await page.screenshot({ path: path.join(SCREENSHOTS, screenshot), fullPage: true });
    await page.close();
    assert.deepEqual(problems, []);
  }

  const packageUrl = (name: string): string => `${origin}/packages/${encodeURIComponent(name)}`;
  const listed = (page: Page, heading: string): Promise<string[]> =>
    page
      .locator('section', { has: page.locator('h2', { hasText: heading }) })
      .locator('ul.names li a')
      .allTextContents();

  test('search suggests names by prefix and Enter opens the chosen package', { skip: SKIP }, async () => {
    const { page, problems } = await openPage();
    await page.goto(origin);
    const search = page.locator('header input[type=search]');
    await search.fill(target.name.slice(0, -1));
    const option = page.locator('header [role=option]', { hasText: target.name });
    await option.first().waitFor({ timeout: DEADLINE_MS });
    const names = await page.locator('header [role=option]').allTextContents();
    assert.ok(
      names.every((name) => name.startsWith(target.name.slice(0, -1))),
      `suggestions share the prefix: ${names.join(', ')}`,
    );
    for (let step = 0; step <= names.indexOf(target.name); step++) await search.press('ArrowDown');
    assert.equal(await page.locator('header [role=option][aria-selected=true]').textContent(), target.name);
    await search.press('Enter');
    await page.locator('h1', { hasText: target.name }).waitFor({ timeout: DEADLINE_MS });
    assert.equal(new URL(page.url()).pathname, `/packages/${encodeURIComponent(target.name)}`);
    await search.fill('x');
    await search.press('Escape');
    assert.equal(await page.locator('header [role=listbox]').isHidden(), true);
    await finish(page, problems);
  });

  test('a package page lists the right dependencies and dependents and draws them; a click in the drawing moves on, back and reload return', {
    skip: SKIP,
  }, async () => {
    const { page, problems } = await openPage();
    await page.goto(packageUrl(target.name));
    await page.locator('.graph[data-state=drawn]').waitFor({ timeout: DEADLINE_MS });
    assert.deepEqual(await listed(page, 'Dependencies'), [...target.deps].sort(byCodePoint));
    const dependents = dependentsOf(target.name).sort(byCodePoint);
    assert.deepEqual(await listed(page, 'Dependents'), dependents.slice(0, 200));
    await page.locator('.counts', { hasText: 'in all, it pulls in' }).waitFor({ timeout: DEADLINE_MS });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'package.png'), fullPage: true });

    const graph = page.locator('.graph');
    await graph.scrollIntoViewIfNeeded();
    const box = await graph.boundingBox();
    assert.ok(box !== null);
    const viewport = page.viewportSize() ?? { width: 0, height: 0 };
    const positions = JSON.parse((await graph.getAttribute('data-positions')) ?? '{}') as Record<string, [number, number]>;
    // the ranks spread over the drawing's width, not a narrow column between two empty sides
    const xs = Object.values(positions).map(([x]) => x);
    const span = Math.max(...xs) - Math.min(...xs);
    assert.ok(span > 0.7 * box.width, `the packages span ${Math.round(span)} of the drawing's ${Math.round(box.width)} px`);
    // a dependent drawn where a click can reach it (a big neighbourhood opens zoomed in on the root)
    // nor under the sticky header, which covers the top of the page once it scrolls
    const headerBottom = (await page.locator('header.top').boundingBox())?.height ?? 0;
    const reachable = ([x, y]: [number, number]): boolean =>
      x > 0 && y > 0 && x < box.width && y < box.height && box.y + y > headerBottom + 20 && box.y + y < viewport.height - 20;
    const dependent = dependents.find((name) => positions[name] !== undefined && reachable(positions[name]));
    assert.ok(dependent !== undefined, `a dependent is drawn in view: ${JSON.stringify(positions)}`);
    const spot = positions[dependent] as [number, number];
    await page.mouse.click(box.x + spot[0], box.y + spot[1]);
    await page.locator('h1', { hasText: dependent }).waitFor({ timeout: DEADLINE_MS });
    assert.equal(new URL(page.url()).pathname, `/packages/${encodeURIComponent(dependent)}`);
    await page.goBack();
    await page.locator('h1', { hasText: target.name }).waitFor({ timeout: DEADLINE_MS });
    await page.reload();
    await page.locator('.graph[data-state=drawn]').waitFor({ timeout: DEADLINE_MS });
    assert.equal(await page.locator('h1').textContent(), target.name);
    await finish(page, problems);
  });

  test('the depth and direction controls redraw in place and stay in the URL', { skip: SKIP }, async () => {
    const { page, problems } = await openPage();
    await page.goto(packageUrl(target.name));
    await page.locator('.graph[data-state=drawn]').waitFor({ timeout: DEADLINE_MS });
    await page.locator('select[aria-label=direction]').selectOption('dependencies');
    await page.locator('.graph[data-state=drawn]').waitFor({ timeout: DEADLINE_MS });
    const drawn = Object.keys(JSON.parse((await page.locator('.graph').getAttribute('data-positions')) ?? '{}') as object);
    assert.ok(
      dependentsOf(target.name).every((name) => !drawn.includes(name)),
      'no dependent drawn when only dependencies are asked for',
    );
    assert.ok(target.deps.every((name) => drawn.includes(name)));
    assert.equal(new URL(page.url()).searchParams.get('direction'), 'dependencies');
    await finish(page, problems);
  });

  test('why does it depend on …: the chain is shown as links', { skip: SKIP }, async () => {
    const { page, problems } = await openPage();
    const through = DATASET.find((pkg) => pkg.deps.some((dep) => (DATASET.find((other) => other.name === dep)?.deps.length ?? 0) > 0)) as Package;
    const middle = through.deps.find((dep) => (DATASET.find((other) => other.name === dep)?.deps.length ?? 0) > 0) as string;
    const end = DATASET.find((pkg) => pkg.name === middle)?.deps[0] as string;
    await page.goto(`${packageUrl(through.name)}?why=${encodeURIComponent(end)}`);
    const chain = page.locator('.chain a');
    await chain.first().waitFor({ timeout: DEADLINE_MS });
    const names = await chain.allTextContents();
    assert.equal(names[0], through.name);
    assert.equal(names.at(-1), end);
    await page.locator('.graph[data-state=drawn]').waitFor({ timeout: DEADLINE_MS });
    await finish(page, problems);
  });

  test('an unknown name gets a page that says so', { skip: SKIP }, async () => {
    const { page, problems } = await openPage(['/v1/packages/no-such-package']);
    await page.goto(packageUrl('no-such-package'));
    await page.locator('h1', { hasText: 'Not in the index' }).waitFor({ timeout: DEADLINE_MS });
    assert.match((await page.locator('main').textContent()) ?? '', /No package named “no-such-package” is indexed/);
    await finish(page, problems, 'unknown.png');
  });

  test('the overview charts move live when commands arrive, and the change feed shows them', { skip: SKIP }, async () => {
    const { page, problems } = await openPage();
    await page.goto(origin);
    await page.locator('.tile').first().waitFor({ timeout: DEADLINE_MS });
    const client = await ProtocolClient.connect('127.0.0.1', indexer.address.port);
    const deadline = Date.now() + DEADLINE_MS;
    let latest = 0;
    let probes = 0;
    for (; latest === 0; probes++) {
      assert.ok(Date.now() < deadline, 'the commands chart never showed the commands');
      await Promise.all([client.request(`INDEX|console-live-probe-${probes}|\n`), client.request(`QUERY|console-live-probe-${probes}|\n`)]);
      await page.waitForTimeout(200);
      latest = Number(await page.locator('[data-chart=commands]').getAttribute('data-latest'));
    }
    const probeListed = (probe: number) =>
      page.locator('.change-list li', { hasText: new RegExp(`\\bconsole-live-probe-${probe}\\b`) }).waitFor({ timeout: DEADLINE_MS });
    await probeListed(probes - 1);
    // one more once those are shown, so that the list must keep what an earlier update brought
    await client.request(`INDEX|console-live-probe-${probes}|\n`);
    await probeListed(probes++);
    const listed = await page.locator('.change-list li', { hasText: 'console-live-probe-' }).count();
    // the overview lists the latest 12 changes (LATEST_CHANGES in console/src/overview.ts)
    assert.equal(listed, Math.min(probes, 12), `${listed} probes listed of the ${probes} indexed`);
    client.close();
    await finish(page, problems, 'overview.png');
  });

  test('the token is enforced: the same origin without credentials is refused, the probes are not', { skip: SKIP }, async () => {
    const { page, problems } = await openPage(['/v1/stats', '/']);
    await page.goto(origin);
    const statuses = await page.evaluate(async () =>
      Promise.all(['/v1/stats', '/', '/healthz', '/readyz'].map(async (where) => (await fetch(where, { credentials: 'omit' })).status)),
    );
    assert.deepEqual(statuses, [401, 401, 200, 200]);
    await finish(page, problems);
  });
});
