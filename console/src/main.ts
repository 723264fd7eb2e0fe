/**
 * The console: a search field in the header and one view at a time under it, chosen by the URL.
 * Everything it shows comes from the admin API of the server that served it, and nothing it does
 * changes the index.
 */
import './style.css';
import { el, replace } from './dom';
import { overviewPage } from './overview';
import { packagePage } from './package-page';
import type { Page } from './page';
import { navigate, packageHref, startRouter, type Route } from './router';
import { createSearch } from './search';

const page = document.getElementById('page');
const searchBox = document.getElementById('search');
if (page === null || searchBox === null) throw new Error('index.html lacks #page or #search');

searchBox.append(createSearch({ label: 'Find a package', placeholder: 'Find a package…', choose: (name) => navigate(packageHref(name)) }).element);

let current: Page | undefined;

function render(route: Route): void {
  if (current?.update?.(route) === true) return;
  current?.dispose();
  if (route.page === 'overview') {
    document.title = 'package-indexer';
    current = overviewPage(page as HTMLElement);
  } else if (route.page === 'package') {
    document.title = `${route.name} · package-indexer`;
    current = packagePage(page as HTMLElement, route.name, route.params);
  } else {
    document.title = 'Not found · package-indexer';
    replace(
      page as HTMLElement,
      el('h1', {}, 'Not found'),
      el('p', {}, `The console has no page at ${route.path}.`),
      el('p', {}, el('a', { attrs: { href: '/', 'data-route': '' } }, 'Back to the overview')),
    );
    current = undefined;
  }
  window.scrollTo(0, 0);
}

startRouter(render);
