/**
 * The change feed (`/v1/changes`, server-sent events) as the overview uses it: the latest changes
 * and how many arrived per second. EventSource reconnects by itself and resumes after the last
 * event id; a `reset` event means some changes were missed, which the overview shows.
 */

export interface Change {
  readonly seq: number;
  readonly command: 'INDEX' | 'REMOVE';
  readonly name: string;
  readonly dependencies: readonly string[];
}

export interface ChangeFeed {
  close(): void;
}

/**
 * Calls `changed` at most every `everyMs` with how many changes arrived since the last call and
 * the latest `keep` changes so far, those of earlier calls included (a list of only the last
 * interval's showed 3 of "5 changes"). Under heavy writes thousands arrive a second: only those
 * kept are parsed.
 */
export function followChanges(changed: (arrived: number, latest: readonly Change[], missed: boolean) => void, keep: number, everyMs = 500): ChangeFeed {
  const source = new EventSource('/v1/changes');
  let raw: string[] = [];
  let latest: Change[] = [];
  let arrived = 0;
  let missed = false;
  source.addEventListener('change', (event) => {
    arrived++;
    raw.push((event as MessageEvent<string>).data);
    if (raw.length > 2 * keep) raw = raw.slice(-keep);
  });
  source.addEventListener('reset', () => {
    missed = true;
  });
  const timer = window.setInterval(() => {
    if (arrived === 0 && !missed) return;
    latest = [...latest, ...raw.slice(-keep).map((data) => JSON.parse(data) as Change)].slice(-keep);
    changed(arrived, latest, missed);
    raw = [];
    arrived = 0;
    missed = false;
  }, everyMs);
  return {
    close() {
      window.clearInterval(timer);
      source.close();
    },
  };
}
