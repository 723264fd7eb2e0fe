/**
 * The read API over the index: one package, pages of names, and the transitive questions (closures
 * either way, install order, path, cycles, summary). Every answer is bounded by a limit with a
 * documented default and says when it was cut; an unknown package is a 404 naming it.
 */
import type { IndexReader } from '../store/index-reader.js';
import { depthParameter, nameFromPath, nameParameter, prefixParameter, validName, wholeNumber } from './parameters.js';

export interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
}

export const LIMITS = {
  /** Names per page of `/v1/packages`. */
  page: { fallback: 100, max: 1_000 },
  /** Dependents listed by `/v1/packages/{name}`. */
  dependents: { fallback: 1_000, max: 10_000 },
  /** Packages listed by a closure. */
  closure: { fallback: 100, max: 10_000 },
  /** Packages listed by an install order. */
  installOrder: { fallback: 1_000, max: 100_000 },
  /** Cycles listed by `/v1/cycles`. */
  cycles: { fallback: 100, max: 10_000 },
  /** The deepest `depth=N`; deeper is `depth=all`. */
  depth: 1_000_000,
} as const;

const PACKAGES = '/v1/packages/';
const QUESTIONS = ['dependencies', 'dependents', 'install-order'] as const;
type Question = (typeof QUESTIONS)[number];

function notFound(name: string): JsonAnswer {
  return { status: 404, body: { error: 'not-found', name, message: `${name} is not indexed` } };
}

function limitOf(params: URLSearchParams, limits: { readonly fallback: number; readonly max: number }): number {
  return wholeNumber(params, 'limit', limits.fallback, 1, limits.max);
}

/**
 * `/v1/packages/{name}` or `/v1/packages/{name}/{question}`. A name may hold `/`: a path whose last
 * segment is a question asks it of the name before; `%2F` keeps a slash inside the name.
 */
export async function packageRoute(reader: IndexReader, rawPath: string, params: URLSearchParams): Promise<JsonAnswer> {
  const rest = rawPath.slice(PACKAGES.length);
  const slash = rest.lastIndexOf('/');
  const last = rest.slice(slash + 1);
  const question = slash > 0 && (QUESTIONS as readonly string[]).includes(last) ? (last as Question) : undefined;
  const name = nameFromPath(question === undefined ? rest : rest.slice(0, slash));
  switch (question) {
    case undefined: {
      const view = await reader.describe(name, limitOf(params, LIMITS.dependents));
      return view === undefined ? notFound(name) : { status: 200, body: { ...view, truncated: view.dependents.length < view.dependentsTotal } };
    }
    case 'dependencies':
    case 'dependents': {
      const closure = await reader.closure(name, question, depthParameter(params, LIMITS.depth), limitOf(params, LIMITS.closure));
      return closure === undefined ? notFound(name) : { status: 200, body: closure };
    }
    case 'install-order': {
      const order = await reader.installOrder(name, limitOf(params, LIMITS.installOrder));
      if (order === undefined) return notFound(name);
      if ('cycle' in order)
        return {
          status: 409,
          body: {
            error: 'cycle',
            name,
            cycle: order.cycle,
            message: `the dependencies of ${name} form a cycle, so no order installs each package after its dependencies`,
          },
        };
      return { status: 200, body: order };
    }
  }
}

export async function listRoute(reader: IndexReader, params: URLSearchParams): Promise<JsonAnswer> {
  const prefix = prefixParameter(params);
  const cursor = params.get('cursor') ?? '';
  if (cursor !== '') validName(cursor, 'cursor');
  const limit = limitOf(params, LIMITS.page);
  const names = await reader.list({ prefix, after: cursor, limit: limit + 1 });
  const packages = names.slice(0, limit);
  return { status: 200, body: { packages, nextCursor: names.length > limit ? (packages.at(-1) ?? null) : null } };
}

export async function pathRoute(reader: IndexReader, params: URLSearchParams): Promise<JsonAnswer> {
  const from = nameParameter(params, 'from');
  const to = nameParameter(params, 'to');
  const path = await reader.path(from, to);
  if (path !== undefined) return { status: 200, body: { from, to, path } };
  // tell an unknown package from two packages with no chain between them
  for (const name of [from, to]) if ((await reader.describe(name, 0)) === undefined) return notFound(name);
  return { status: 404, body: { error: 'no-path', from, to, message: `${from} does not depend on ${to}, directly or through others` } };
}

export async function cyclesRoute(reader: IndexReader, params: URLSearchParams): Promise<JsonAnswer> {
  return { status: 200, body: await reader.cycles(limitOf(params, LIMITS.cycles)) };
}
