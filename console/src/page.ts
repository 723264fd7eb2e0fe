/** What every view of the console is to the router. */
import type { Route } from './router';

export interface Page {
  /** Takes a new route in place (same package, other controls); false when it needs a new page. */
  update?(route: Route): boolean;
  /** Stops its requests, streams and timers. */
  dispose(): void;
}
