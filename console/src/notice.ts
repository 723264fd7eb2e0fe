/** How a failed request shows on the page: a sentence in place of what could not be loaded. */
import { ApiError, isAbort } from './api';
import { el, replace } from './dom';

export function showError(box: HTMLElement, error: unknown): void {
  // an aborted request belongs to a page that was left: nothing to say
  if (isAbort(error)) return;
  const message =
    error instanceof ApiError
      ? `The server answered ${error.status}: ${error.message}`
      : `The request failed: ${error instanceof Error ? error.message : String(error)}`;
  replace(box, el('p', { class: 'error', attrs: { role: 'alert' } }, message));
  box.setAttribute('data-state', 'failed');
}
