/**
 * The questions a package page answers beside its lists: what stands in the way of removing it,
 * the order to install it in, and why it depends on another package (the chain, which the page
 * also marks in the drawing).
 */
import { api, type Closure, type PackageView } from './api';
import { count, el, plural, replace } from './dom';
import { showError } from './notice';
import { packageLink } from './router';
import { createSearch } from './search';

/** Packages listed by the transitive dependents and the install order. */
const LISTED = 1000;

/** `dependents`: the count of everything that depends on it, asked once for the whole page. */
export function removalSection(view: PackageView, dependents: Promise<Closure>, signal: AbortSignal): HTMLElement {
  const section = el('section', { class: 'question' }, el('h2', {}, 'Removing it'));
  const command = `REMOVE|${view.name}|`;
  if (view.dependentsTotal === 0) {
    section.append(el('p', {}, 'Nothing depends on it, so ', el('code', {}, command), ' succeeds.'));
    return section;
  }
  const everything = el('p', { class: 'muted' }, 'counting everything that depends on it…');
  const details = el('details', {}, el('summary', {}, 'Everything that depends on it, nearest first'));
  section.append(
    el(
      'p',
      {},
      el('code', {}, command),
      ` is refused while ${plural(view.dependentsTotal, 'package depends', 'packages depend')} on it directly; each of them must go first, and so must what depends on them.`,
    ),
    everything,
    details,
  );
  dependents
    .then((closure) => {
      replace(everything, `In all, ${plural(closure.total, 'package')} would have to be removed before it.`);
    })
    .catch((error: unknown) => showError(everything, error));
  onFirstOpen(details, async (box) => {
    const closure = await api.closure(view.name, 'dependents', LISTED, signal);
    replace(
      box,
      el(
        'ol',
        { class: 'names' },
        ...closure.packages.map(({ name, depth }) =>
          el('li', {}, packageLink(name), el('span', { class: 'muted' }, depth === 1 ? ' direct' : ` ${depth} steps away`)),
        ),
      ),
      closure.truncated && el('p', { class: 'muted' }, `the first ${count(closure.packages.length)} of ${count(closure.total)}`),
    );
  });
  return section;
}

export function installOrderSection(name: string, signal: AbortSignal): HTMLElement {
  const details = el('details', { class: 'question' }, el('summary', {}, el('h2', {}, 'Install order')));
  onFirstOpen(details, async (box) => {
    const order = await api.installOrder(name, LISTED, signal);
    if ('cycle' in order) {
      replace(
        box,
        el('p', { class: 'error' }, 'No order exists: these packages depend on each other in a cycle.'),
        chainOf([...order.cycle, order.cycle[0] ?? '']),
      );
      return;
    }
    replace(
      box,
      el('p', {}, `${plural(order.total, 'package')}, each after its own dependencies, ${name} last:`),
      el('ol', { class: 'names install-order' }, ...order.order.map((other) => el('li', {}, packageLink(other)))),
      order.truncated && el('p', { class: 'muted' }, `the first ${count(order.order.length)} of ${count(order.total)}`),
    );
  });
  return details;
}

export interface WhySection {
  readonly element: HTMLElement;
  /** Asks why the package depends on `target` ('' clears the answer). */
  ask(target: string): void;
}

/** "Why does it depend on …": `choose` records the question (in the URL); `ask` answers it. */
export function whySection(name: string, choose: (target: string) => void, signal: AbortSignal, found: (chain: readonly string[]) => void): WhySection {
  const answer = el('div', { class: 'answer', attrs: { 'aria-live': 'polite' } });
  const search = createSearch({ label: `why does ${name} depend on`, placeholder: 'another package…', choose });
  const button = el('button', { attrs: { type: 'submit' } }, 'Ask');
  const form = el('form', { class: 'why' }, search.element, button);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (search.input.value.trim() !== '') choose(search.input.value.trim());
  });
  const element = el('section', { class: 'question' }, el('h2', {}, `Why does ${name} depend on …?`), form, answer);
  const ask = async (target: string): Promise<void> => {
    search.input.value = target;
    if (target === '') {
      replace(answer);
      return found([]);
    }
    replace(answer, el('p', { class: 'muted' }, 'looking for a chain…'));
    const forward = await api.path(name, target, signal);
    if ('path' in forward) {
      const how = forward.path.length === 2 ? 'directly' : `through ${plural(forward.path.length - 2, 'other package')}`;
      replace(answer, el('p', {}, `${name} depends on ${target} ${how} (marked in the drawing):`), chainOf(forward.path));
      return found(forward.path);
    }
    if ('missing' in forward) {
      replace(answer, el('p', { class: 'error' }, `${forward.missing} is not indexed.`));
      return found([]);
    }
    const backward = await api.path(target, name, signal);
    if ('path' in backward) {
      replace(answer, el('p', {}, `${name} does not depend on ${target}; it is the other way round (marked in the drawing):`), chainOf(backward.path));
      return found(backward.path);
    }
    replace(answer, el('p', {}, `${name} does not depend on ${target}, directly or through others, nor the other way round.`));
    found([]);
  };
  return { element, ask: (target) => void ask(target).catch((error: unknown) => showError(answer, error)) };
}

/** Names joined by arrows, each a link. */
function chainOf(names: readonly string[]): HTMLElement {
  const chain = el('p', { class: 'chain' });
  names.forEach((name, index) =>
    chain.append(...(index === 0 ? [] : [el('span', { class: 'arrow', attrs: { 'aria-label': 'depends on' } }, ' → ')]), packageLink(name)),
  );
  return chain;
}

/** Loads a details element's content the first time it opens. */
function onFirstOpen(details: HTMLDetailsElement, load: (box: HTMLElement) => Promise<void>): void {
  const box = el('div', {}, el('p', { class: 'muted' }, 'loading…'));
  details.append(box);
  const toggle = (): void => {
    if (!details.open) return;
    details.removeEventListener('toggle', toggle);
    load(box).catch((error: unknown) => showError(box, error));
  };
  details.addEventListener('toggle', toggle);
}
