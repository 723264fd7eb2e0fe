/**
 * `/`: the index at a glance, live. Sizes and connections from the stats every few seconds,
 * commands per second by command and result and the p99 latencies from the server's one-second
 * timeline, the latest changes from the change feed, and the most depended-upon packages, roots,
 * leaves and cycles as links.
 */
import { api, type HistorySample, type Stats } from './api';
import { TimeChart, type SeriesSpec } from './charts';
import { count, el, plural, replace } from './dom';
import { followChanges, type Change } from './live';
import { showError } from './notice';
import type { Page } from './page';
import { packageLink } from './router';

const COMMANDS = [
  ['INDEX', '#2563eb'],
  ['REMOVE', '#d97706'],
  ['QUERY', '#059669'],
] as const;
const RESULTS = [
  ['OK', undefined],
  ['FAIL', [8, 4]],
  ['ERROR', [2, 3]],
] as const;
const COMMAND_SERIES = COMMANDS.flatMap(([command, stroke]) =>
  RESULTS.map(([result, dash]) => ({ key: `${command} ${result}`, label: `${command} ${result}`, stroke, ...(dash === undefined ? {} : { dash: [...dash] }) })),
);
const LATENCY_SERIES: SeriesSpec[] = [
  { label: 'command p99', stroke: '#7c3aed', points: true },
  { label: 'store commit p99', stroke: '#dc2626', dash: [8, 4], points: true },
];
/** Five minutes of one-second samples. */
const KEPT_SAMPLES = 300;
const HISTORY_EVERY_MS = 1_000;
const STATS_EVERY_MS = 3_000;
const CYCLES_EVERY_MS = 30_000;
const LATEST_CHANGES = 12;

export function overviewPage(root: HTMLElement): Page {
  const aborter = new AbortController();
  const { signal } = aborter;
  const timers: number[] = [];
  const tiles = el('div', { class: 'tiles' });
  const commandsChart = new TimeChart('Commands per second, by command and result', 'per second', COMMAND_SERIES);
  const latencyChart = new TimeChart('Latency, 99th percentile', 'ms', LATENCY_SERIES);
  commandsChart.element.setAttribute('data-chart', 'commands');
  const lists = el('div', { class: 'lists' });
  const cycles = el('section', {}, el('h2', {}, 'Cycles'), el('p', { class: 'muted' }, 'looking…'));
  const changes = el('section', { class: 'changes' }, el('h2', {}, 'Latest changes'), el('p', { class: 'muted' }, 'none since this page opened'));
  replace(
    root,
    el('h1', {}, 'Overview'),
    tiles,
    el('div', { class: 'charts' }, commandsChart.element, latencyChart.element),
    lists,
    el('div', { class: 'lists' }, cycles, changes),
  );

  const samples: HistorySample[] = [];
  const every = (ms: number, work: () => Promise<void>): void => {
    const run = (): void => {
      work()
        .catch((error: unknown) => showError(tiles, error))
        .finally(() => {
          if (!signal.aborted) timers.push(window.setTimeout(run, ms));
        });
    };
    run();
  };
  every(HISTORY_EVERY_MS, async () => {
    const { samples: fresh } = await api.history(samples.at(-1)?.atMs ?? 0, signal);
    if (fresh.length === 0) return;
    samples.push(...fresh);
    samples.splice(0, Math.max(0, samples.length - KEPT_SAMPLES));
    drawCharts(samples, commandsChart, latencyChart);
  });
  every(STATS_EVERY_MS, async () => {
    const stats = await api.stats(signal);
    showTiles(
      tiles,
      stats,
      samples.findLast((sample) => sample.p99Ms !== null),
    );
    showLists(lists, stats);
  });
  every(CYCLES_EVERY_MS, async () => showCycles(cycles, await api.cycles(10, signal)));
  let total = 0;
  const feed = followChanges((arrived, latest, missed) => {
    total += arrived;
    showChanges(changes, total, latest, missed);
  }, LATEST_CHANGES);

  return {
    dispose() {
      aborter.abort();
      timers.forEach((timer) => window.clearTimeout(timer));
      feed.close();
      commandsChart.destroy();
      latencyChart.destroy();
    },
  };
}

function drawCharts(samples: readonly HistorySample[], commands: TimeChart, latency: TimeChart): void {
  const times = samples.map((sample) => sample.atMs / 1000);
  commands.setData(
    times,
    COMMAND_SERIES.map(({ key }) => samples.map((sample) => sample.commandsPerSecond[key] ?? 0)),
  );
  latency.setData(times, [samples.map((sample) => sample.p99Ms), samples.map((sample) => sample.commitP99Ms)]);
  const last = samples.at(-1);
  const perSecond = last === undefined ? 0 : Object.values(last.commandsPerSecond).reduce((sum, value) => sum + value, 0);
  commands.element.setAttribute('data-latest', String(perSecond));
  commands.element.setAttribute('data-samples', String(samples.length));
}

function tile(label: string, value: string): HTMLElement {
  return el('div', { class: 'tile' }, el('div', { class: 'value' }, value), el('div', { class: 'label' }, label));
}

function showTiles(tiles: HTMLElement, stats: Stats, last: HistorySample | undefined): void {
  const p99 = last?.p99Ms;
  replace(
    tiles,
    tile('packages', count(stats.packages)),
    tile('dependencies', count(stats.dependencies)),
    tile('connections', count(stats.connections)),
    tile('commands per second', count(Math.round(stats.commandsPerSecond))),
    tile('p99 latency, last busy second', p99 === null || p99 === undefined ? '–' : `${p99.toFixed(2)} ms`),
    tile('up for', duration(stats.uptimeSeconds)),
  );
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function showLists(lists: HTMLElement, stats: Stats): void {
  replace(
    lists,
    el(
      'section',
      {},
      el('h2', {}, 'Most depended upon'),
      stats.mostDependedUpon.length === 0
        ? el('p', { class: 'muted' }, 'nothing depends on anything yet')
        : el(
            'ol',
            { class: 'names' },
            ...stats.mostDependedUpon.map(({ name, count: dependents }) =>
              el('li', {}, packageLink(name), el('span', { class: 'muted' }, ` ${plural(dependents, 'dependent')}`)),
            ),
          ),
    ),
    sample('Roots', 'nothing depends on them', stats.roots.total, stats.roots.names),
    sample('Leaves', 'they depend on nothing', stats.leaves.total, stats.leaves.names),
  );
}

function sample(title: string, meaning: string, total: number, names: readonly string[]): HTMLElement {
  return el(
    'section',
    {},
    el('h2', {}, `${title} (${count(total)})`),
    el('p', { class: 'muted' }, meaning),
    el('ul', { class: 'names' }, ...names.map((name) => el('li', {}, packageLink(name)))),
    total > names.length && el('p', { class: 'muted' }, `and ${count(total - names.length)} more`),
  );
}

function showCycles(section: HTMLElement, found: { total: number; cycles: ReadonlyArray<readonly string[]> }): void {
  replace(
    section,
    el('h2', {}, `Cycles (${count(found.total)})`),
    found.total === 0
      ? el('p', { class: 'muted' }, 'no package depends on itself through others')
      : el(
          'ul',
          { class: 'cycles' },
          ...found.cycles.map((members) => el('li', {}, ...members.flatMap((name, index) => [index === 0 ? '' : ', ', packageLink(name)]))),
        ),
  );
}

function showChanges(section: HTMLElement, total: number, latest: readonly Change[], missed: boolean): void {
  replace(
    section,
    el('h2', {}, 'Latest changes'),
    el('p', { class: 'muted' }, `${plural(total, 'change')} since this page opened${missed ? '; some were missed while disconnected' : ''}`),
    el(
      'ul',
      { class: 'change-list' },
      ...[...latest]
        .reverse()
        .map((change) =>
          el(
            'li',
            {},
            el('span', { class: `command ${change.command.toLowerCase()}` }, change.command),
            ' ',
            change.command === 'REMOVE' ? change.name : packageLink(change.name),
            change.dependencies.length > 0 &&
              el('span', { class: 'muted' }, ` → ${change.dependencies.slice(0, 6).join(', ')}${change.dependencies.length > 6 ? ', …' : ''}`),
          ),
        ),
    ),
  );
}
