/**
 * A search field with prefix suggestions from the index, as a WAI-ARIA combobox: typing asks the
 * server for names starting with the text; ArrowDown and ArrowUp move through them, Enter takes
 * the highlighted one (or the text as typed), Escape closes the list, and a second Escape clears.
 */
import { api, isAbort, VALID_NAME } from './api';
import { el, replace } from './dom';

export interface SearchOptions {
  readonly label: string;
  readonly placeholder: string;
  /** Called with the chosen name. */
  readonly choose: (name: string) => void;
  readonly initial?: string;
}

const SUGGESTIONS = 10;
const TYPING_PAUSE_MS = 100;
let nextId = 0;

export function createSearch(options: SearchOptions): { element: HTMLElement; input: HTMLInputElement } {
  const listId = `suggestions-${nextId++}`;
  const input = el('input', {
    attrs: {
      type: 'search',
      role: 'combobox',
      'aria-label': options.label,
      'aria-autocomplete': 'list',
      'aria-expanded': 'false',
      'aria-controls': listId,
      placeholder: options.placeholder,
      autocomplete: 'off',
      spellcheck: 'false',
    },
  });
  input.value = options.initial ?? '';
  const list = el('ul', { class: 'suggestions', attrs: { id: listId, role: 'listbox', 'aria-label': `${options.label}: suggestions` } });
  list.hidden = true;
  let names: string[] = [];
  let active = -1;
  let pending: AbortController | undefined;
  let timer: number | undefined;

  const show = (found: string[]): void => {
    names = found;
    active = -1;
    replace(
      list,
      ...found.map((name, index) => {
        const option = el('li', { attrs: { id: `${listId}-${index}`, role: 'option', 'aria-selected': 'false' } }, name);
        // mousedown, not click: it comes before the field loses focus
        option.addEventListener('mousedown', (event) => {
          event.preventDefault();
          take(name);
        });
        return option;
      }),
    );
    list.hidden = found.length === 0;
    input.setAttribute('aria-expanded', String(!list.hidden));
    input.removeAttribute('aria-activedescendant');
  };
  const highlight = (index: number): void => {
    active = index;
    list.querySelectorAll('[role=option]').forEach((option, at) => option.setAttribute('aria-selected', String(at === index)));
    if (index >= 0) {
      input.setAttribute('aria-activedescendant', `${listId}-${index}`);
      list.children[index]?.scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  };
  /** Closes the list, and drops the suggestions still on their way: they would open it again. */
  const close = (): void => {
    window.clearTimeout(timer);
    pending?.abort();
    show([]);
  };
  const take = (name: string): void => {
    input.value = name;
    close();
    options.choose(name);
  };
  const suggest = async (): Promise<void> => {
    pending?.abort();
    const prefix = input.value.trim();
    if (prefix === '' || !VALID_NAME.test(prefix)) return show([]);
    pending = new AbortController();
    try {
      show((await api.list(prefix, SUGGESTIONS, pending.signal)).packages);
    } catch (error) {
      if (!isAbort(error)) show([]);
    }
  };

  input.addEventListener('input', () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void suggest(), TYPING_PAUSE_MS);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (names.length === 0) return;
      event.preventDefault();
      // positions run from -1 (the text as typed) to the last name, and wrap around
      const next = active + (event.key === 'ArrowDown' ? 1 : -1);
      highlight(next >= names.length ? -1 : next < -1 ? names.length - 1 : next);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const name = active >= 0 ? names[active] : input.value.trim();
      if (name !== undefined && name !== '') take(name);
    } else if (event.key === 'Escape') {
      if (list.hidden) input.value = '';
      close();
    }
  });
  input.addEventListener('blur', close);
  return { element: el('div', { class: 'combobox' }, input, list), input };
}
