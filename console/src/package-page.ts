/**
 * `/packages/{name}`: the package's direct dependencies and dependents with the counts of the
 * transitive ones, the drawing of its neighbourhood (depth and direction in the URL), and the
 * questions around it (package-questions.ts). An unknown or invalid name gets a page saying so.
 */
import { api, VALID_NAME, type PackageView } from './api';
import { count, el, plural, replace } from './dom';
import type { GraphView } from './graph-view';
import { DEFAULT_LIMITS, neighbourhood, withChain, type Hood, type Way } from './neighbourhood';
import { installOrderSection, removalSection, whySection } from './package-questions';
import { showError } from './notice';
import { navigate, packageHref, packageLink } from './router';
import type { Page } from './page';

/** Direct dependents listed on the page; the rest are counted. */
const LISTED_DEPENDENTS = 200;
const DEPTHS = [1, 2, 3, 4] as const;
const WAYS: ReadonlyArray<readonly [Way, string]> = [
  ['both', 'both ways'],
  ['dependencies', 'dependencies'],
  ['dependents', 'dependents'],
];

interface DrawingParams {
  readonly depth: number;
  readonly way: Way;
  readonly why: string;
}

function paramsOf(params: URLSearchParams): DrawingParams {
  const depth = Number(params.get('depth') ?? '2');
  const way = params.get('direction');
  return {
    depth: (DEPTHS as readonly number[]).includes(depth) ? depth : 2,
    way: way === 'dependencies' || way === 'dependents' ? way : 'both',
    why: params.get('why') ?? '',
  };
}

function hrefWith(name: string, drawing: DrawingParams): string {
  const params: Record<string, string> = { depth: String(drawing.depth), direction: drawing.way };
  if (drawing.why !== '') params['why'] = drawing.why;
  return packageHref(name, params);
}

export function packagePage(root: HTMLElement, name: string, params: URLSearchParams): Page {
  const aborter = new AbortController();
  const { signal } = aborter;
  let drawing = paramsOf(params);
  let view: PackageView | undefined;
  let hood: Hood | undefined;
  let graph: GraphView | undefined;
  let chain: readonly string[] = [];
  const graphBox = el(
    'div',
    { class: 'graph', attrs: { 'data-state': 'loading', role: 'img', 'aria-label': `dependency drawing of ${name}` } },
    el('p', { class: 'muted' }, 'Drawing…'),
  );
  const why = whySection(
    name,
    (target) => navigate(hrefWith(name, { ...drawing, why: target }), { replace: true }),
    signal,
    (found) => {
      chain = found;
      void redraw();
    },
  );

  // the graph library loads while the neighbourhood is fetched, not after
  const graphModule = import('./graph-view');
  const redraw = async (): Promise<void> => {
    if (view === undefined || hood === undefined) return;
    const { drawGraph } = await graphModule;
    if (signal.aborted) return;
    graph?.destroy();
    replace(graphBox);
    graphBox.setAttribute('data-state', 'laying-out');
    graph = drawGraph(graphBox, chain.length > 0 ? withChain(hood, chain) : hood, (target) => navigate(packageHref(target)));
    graph.highlight(chain);
  };
  const draw = async (): Promise<void> => {
    if (view === undefined) return;
    graphBox.setAttribute('data-state', 'loading');
    const root = view;
    hood = await neighbourhood(root, drawing.depth, drawing.way, (other, limit) => api.describe(other, limit, signal), DEFAULT_LIMITS);
    if (!signal.aborted) await redraw();
    drawnOnce();
  };
  // the transitive counts wait for the drawing: they can take the read side a while on a big index
  let drawnOnce: () => void = () => {};
  const firstDrawing = new Promise<void>((resolve) => {
    drawnOnce = resolve;
  });

  replace(root, el('p', { class: 'muted' }, `Looking up ${name}…`));
  if (!VALID_NAME.test(name)) {
    replace(
      root,
      el('h1', {}, 'Not a package name'),
      el('p', {}, `“${name}” cannot be a package name: names are 1 to 255 characters from A–Z a–z 0–9 . _ + @ / : ~ -.`),
      el('p', {}, el('a', { attrs: { href: '/', 'data-route': '' } }, 'Back to the overview')),
    );
  } else {
    api
      .describe(name, LISTED_DEPENDENTS, signal)
      .then((found) => {
        if (found === undefined) return void unknownPackage(root, name, signal);
        view = found;
        replace(
          root,
          ...layout(
            found,
            drawing,
            graphBox,
            why.element,
            firstDrawing,
            signal,
            (next) => navigate(hrefWith(name, next), { replace: true }),
            () => graph?.fit(),
          ),
        );
        void draw().catch((error: unknown) => showError(graphBox, error));
        if (drawing.why !== '') why.ask(drawing.why);
      })
      .catch((error: unknown) => showError(root, error));
  }

  return {
    update(next) {
      if (next.page !== 'package' || next.name !== name) return false;
      const before = drawing;
      drawing = paramsOf(next.params);
      if (before.depth !== drawing.depth || before.way !== drawing.way) void draw().catch((error: unknown) => showError(graphBox, error));
      if (before.why !== drawing.why) why.ask(drawing.why);
      return true;
    },
    dispose() {
      aborter.abort();
      graph?.destroy();
    },
  };
}

function layout(
  view: PackageView,
  drawing: DrawingParams,
  graphBox: HTMLElement,
  why: HTMLElement,
  drawn: Promise<void>,
  signal: AbortSignal,
  change: (next: DrawingParams) => void,
  fit: () => void,
): HTMLElement[] {
  const transitive = el('span', { class: 'muted' }, 'counting the transitive ones…');
  const dependents = drawn.then(() => api.closure(view.name, 'dependents', 1, signal));
  void Promise.all([drawn.then(() => api.closure(view.name, 'dependencies', 1, signal)), dependents])
    .then(([down, up]) => {
      replace(transitive, `in all, it pulls in ${plural(down.total, 'package')} and ${plural(up.total, 'package')} depend on it`);
    })
    .catch((error: unknown) => showError(transitive, error));
  const depth = el(
    'select',
    { attrs: { 'aria-label': 'depth' } },
    ...DEPTHS.map((value) => option(String(value), `${value} ${value === 1 ? 'level' : 'levels'}`, value === drawing.depth)),
  );
  const way = el('select', { attrs: { 'aria-label': 'direction' } }, ...WAYS.map(([value, text]) => option(value, text, value === drawing.way)));
  const onChange = (): void => change({ ...drawing, depth: Number(depth.value), way: way.value as Way });
  depth.addEventListener('change', onChange);
  way.addEventListener('change', onChange);
  const fitButton = el('button', { attrs: { type: 'button' } }, 'Fit');
  fitButton.addEventListener('click', fit);
  return [
    el('h1', { class: 'package-name' }, view.name),
    el(
      'p',
      { class: 'counts' },
      `${plural(view.dependencies.length, 'direct dependency', 'direct dependencies')} · ${plural(view.dependentsTotal, 'direct dependent')} · `,
      transitive,
    ),
    el(
      'div',
      { class: 'controls' },
      el('label', {}, 'Depth ', depth),
      el('label', {}, 'Direction ', way),
      fitButton,
      el(
        'span',
        { class: 'legend' },
        el('span', { class: 'key dependent' }, 'depends on it'),
        el('span', { class: 'key root' }, view.name),
        el('span', { class: 'key dependency' }, 'it depends on'),
        el('span', { class: 'muted' }, `arrows read “depends on”; at most ${DEFAULT_LIMITS.fanout} per package, the rest as “+N more”`),
      ),
    ),
    graphBox,
    el(
      'div',
      { class: 'columns' },
      el(
        'section',
        {},
        el('h2', {}, `Dependencies (${count(view.dependencies.length)})`),
        nameList(view.dependencies, view.dependencies.length, `${view.name} depends on nothing.`),
      ),
      el(
        'section',
        {},
        el('h2', {}, `Dependents (${count(view.dependentsTotal)})`),
        nameList(view.dependents, view.dependentsTotal, `Nothing depends on ${view.name}.`),
      ),
    ),
    removalSection(view, dependents, signal),
    why,
    installOrderSection(view.name, signal),
  ];
}

function option(value: string, text: string, selected: boolean): HTMLOptionElement {
  const element = el('option', { attrs: { value } }, text);
  element.selected = selected;
  return element;
}

/** Names as links, and how many more there are beyond those listed. */
export function nameList(names: readonly string[], total: number, empty: string): HTMLElement {
  if (total === 0) return el('p', { class: 'muted' }, empty);
  return el(
    'div',
    {},
    el('ul', { class: 'names' }, ...names.map((name) => el('li', {}, packageLink(name)))),
    total > names.length && el('p', { class: 'muted' }, `and ${count(total - names.length)} more`),
  );
}

async function unknownPackage(root: HTMLElement, name: string, signal: AbortSignal): Promise<void> {
  const near = el('div', {});
  replace(
    root,
    el('h1', {}, 'Not in the index'),
    el('p', {}, `No package named “${name}” is indexed.`),
    near,
    el('p', {}, el('a', { attrs: { href: '/', 'data-route': '' } }, 'Back to the overview')),
  );
  const prefix = name.slice(0, Math.max(1, Math.min(3, name.length - 1)));
  const { packages } = await api.list(prefix, 10, signal).catch(() => ({ packages: [] as string[] }));
  if (packages.length > 0)
    replace(near, el('p', {}, `Names starting with “${prefix}”:`), el('ul', { class: 'names' }, ...packages.map((other) => el('li', {}, packageLink(other)))));
}
