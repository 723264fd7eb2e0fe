/**
 * Real URLs for every view: `/` is the overview, `/packages/{name}` a package (`/` in a name is
 * %2F), with the drawing's controls in the query string. Links marked `data-route` move without
 * a reload; reload, back and forward land on the same view.
 */
import { el } from './dom';

export type Route =
  | { readonly page: 'overview' }
  | { readonly page: 'package'; readonly name: string; readonly params: URLSearchParams }
  | { readonly page: 'unknown'; readonly path: string };

const PACKAGES = '/packages/';

export function packageHref(name: string, params?: Readonly<Record<string, string>>): string {
  const search = params === undefined ? '' : new URLSearchParams(params).toString();
  return `${PACKAGES}${encodeURIComponent(name)}${search === '' ? '' : `?${search}`}`;
}

export function routeOf(location: { pathname: string; search: string }): Route {
  if (location.pathname === '/') return { page: 'overview' };
  if (location.pathname.startsWith(PACKAGES) && location.pathname.length > PACKAGES.length) {
    let name: string;
    try {
      name = decodeURIComponent(location.pathname.slice(PACKAGES.length));
    } catch {
      return { page: 'unknown', path: location.pathname };
    }
    return { page: 'package', name, params: new URLSearchParams(location.search) };
  }
  return { page: 'unknown', path: location.pathname };
}

let onRoute: (route: Route) => void = () => {};

/** Moves to `href` as a new history entry (or in place, for a change of controls) and renders it. */
export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (options.replace === true) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  onRoute(routeOf(location));
}

export function startRouter(render: (route: Route) => void): void {
  onRoute = render;
  window.addEventListener('popstate', () => render(routeOf(location)));
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target instanceof Element ? event.target.closest('a[data-route]') : null;
    if (!(link instanceof HTMLAnchorElement) || link.origin !== location.origin) return;
    event.preventDefault();
    navigate(link.pathname + link.search);
  });
  render(routeOf(location));
}

/** A link to a package's page, its name as text. */
export function packageLink(name: string, text: string = name): HTMLAnchorElement {
  return el('a', { class: 'pkg', attrs: { href: packageHref(name), 'data-route': '' } }, text);
}
