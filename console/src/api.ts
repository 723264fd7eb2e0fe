/**
 * The admin API as the console uses it: typed answers, names encoded into paths (`/` as %2F),
 * and every answer that is not 2xx turned into an ApiError carrying the server's JSON body.
 */

export interface PackageView {
  readonly name: string;
  readonly dependencies: readonly string[];
  readonly dependents: readonly string[];
  readonly dependentsTotal: number;
  readonly truncated: boolean;
}

export type Direction = 'dependencies' | 'dependents';

export interface Closure {
  readonly name: string;
  readonly total: number;
  readonly truncated: boolean;
  readonly packages: ReadonlyArray<{ readonly name: string; readonly depth: number }>;
}

export interface NameSample {
  readonly total: number;
  readonly names: readonly string[];
}

export interface Stats {
  readonly packages: number;
  readonly dependencies: number;
  readonly connections: number;
  readonly uptimeSeconds: number;
  readonly commandsPerSecond: number;
  readonly mostDependedUpon: ReadonlyArray<{ readonly name: string; readonly count: number }>;
  readonly roots: NameSample;
  readonly leaves: NameSample;
}

export interface HistorySample {
  readonly atMs: number;
  readonly commandsPerSecond: Readonly<Record<string, number>>;
  readonly p99Ms: number | null;
  readonly commitP99Ms: number | null;
}

export interface Cycles {
  readonly total: number;
  readonly truncated: boolean;
  readonly cycles: ReadonlyArray<readonly string[]>;
}

export type InstallOrder = { readonly total: number; readonly truncated: boolean; readonly order: readonly string[] } | { readonly cycle: readonly string[] };

/** What the server said when it did not answer 2xx. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;

  constructor(status: number, body: Readonly<Record<string, unknown>>) {
    super(typeof body['message'] === 'string' ? body['message'] : `the server answered ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** Names as the protocol allows them; anything else the server refuses. */
export const VALID_NAME = /^[A-Za-z0-9._+@/:~-]{1,255}$/;

export function packageApiPath(name: string): string {
  return `/v1/packages/${encodeURIComponent(name)}`;
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { signal, headers: { accept: 'application/json' } });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) throw new ApiError(response.status, body);
  return body as T;
}

/** The answer, or undefined when the server says 404. */
async function unlessMissing<T>(answer: Promise<T>): Promise<T | undefined> {
  try {
    return await answer;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

function query(params: Record<string, string | number>): string {
  return new URLSearchParams(Object.entries(params).map(([key, value]) => [key, String(value)])).toString();
}

export const api = {
  stats: (signal?: AbortSignal) => getJson<Stats>('/v1/stats', signal),
  history: (afterMs: number, signal?: AbortSignal) => getJson<{ samples: HistorySample[] }>(`/v1/stats/history?${query({ after: afterMs })}`, signal),
  list: (prefix: string, limit: number, signal?: AbortSignal) => getJson<{ packages: string[] }>(`/v1/packages?${query({ prefix, limit })}`, signal),
  describe: (name: string, limit: number, signal?: AbortSignal) => unlessMissing(getJson<PackageView>(`${packageApiPath(name)}?${query({ limit })}`, signal)),
  closure: (name: string, direction: Direction, limit: number, signal?: AbortSignal) =>
    getJson<Closure>(`${packageApiPath(name)}/${direction}?${query({ depth: 'all', limit })}`, signal),
  installOrder: async (name: string, limit: number, signal?: AbortSignal): Promise<InstallOrder> => {
    try {
      return await getJson<InstallOrder>(`${packageApiPath(name)}/install-order?${query({ limit })}`, signal);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && Array.isArray(error.body['cycle'])) return { cycle: error.body['cycle'] as string[] };
      throw error;
    }
  },
  /** The chain from → to; or why there is none: no chain, or `missing` names a package not indexed. */
  path: async (from: string, to: string, signal?: AbortSignal): Promise<{ path: string[] } | { missing: string } | { noPath: true }> => {
    try {
      return await getJson<{ path: string[] }>(`/v1/path?${query({ from, to })}`, signal);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
      return error.body['error'] === 'no-path' ? { noPath: true } : { missing: String(error.body['name']) };
    }
  },
  cycles: (limit: number, signal?: AbortSignal) => getJson<Cycles>(`/v1/cycles?${query({ limit })}`, signal),
};

/** True for the error an aborted fetch throws: the page moved on, nothing to report. */
export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
