/**
 * The admin API described in OpenAPI 3.1, served at `/v1/openapi.json`. The integration tests
 * check real answers against these schemas, so the description cannot drift from the server.
 */
import { LIMITS } from './graph-routes.js';

const NAME = { type: 'string', pattern: '^[A-Za-z0-9._+@/:~-]{1,255}$' } as const;
const COUNT = { type: 'integer', minimum: 0 } as const;
const NAMES = { type: 'array', items: NAME } as const;

function object(properties: Record<string, unknown>, required = Object.keys(properties)): Record<string, unknown> {
  return { type: 'object', properties, required };
}

function json(description: string, schema: unknown): Record<string, unknown> {
  return { description, content: { 'application/json': { schema } } };
}

function limit(limits: { readonly fallback: number; readonly max: number }, what: string): Record<string, unknown> {
  return {
    name: 'limit',
    in: 'query',
    description: `the most ${what} to list`,
    schema: { type: 'integer', minimum: 1, maximum: limits.max, default: limits.fallback },
  };
}

const nameInPath = { name: 'name', in: 'path', required: true, description: 'a package name; encode `/` inside it as %2F', schema: NAME };
const depth = {
  name: 'depth',
  in: 'query',
  description: 'how many steps to follow: a whole number, or `all`',
  schema: { oneOf: [{ type: 'integer', minimum: 1, maximum: LIMITS.depth }, { const: 'all' }], default: 'all' },
};

const badRequest = json(
  'a parameter breaks its rules; `parameter` names it',
  object({ error: { const: 'bad-request' }, parameter: { type: 'string' }, message: { type: 'string' } }),
);
const NOT_FOUND = object({ error: { const: 'not-found' }, name: NAME, message: { type: 'string' } });
const notFound = json('the package is not indexed', NOT_FOUND);
const CLOSURE = object({
  name: NAME,
  total: COUNT,
  truncated: { type: 'boolean' },
  packages: { type: 'array', items: object({ name: NAME, depth: { type: 'integer', minimum: 1 } }) },
});
const NAMED_SAMPLE = object({ total: COUNT, names: NAMES });

function closurePath(direction: 'dependencies' | 'dependents', summary: string): Record<string, unknown> {
  return {
    get: {
      summary,
      parameters: [nameInPath, depth, limit(LIMITS.closure, 'packages')],
      responses: {
        200: json(`the ${direction}, nearest first, then by name, each with its shortest distance (1 = direct)`, CLOSURE),
        400: badRequest,
        404: notFound,
      },
    },
  };
}

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'package-indexer admin API',
    version: '1',
    description:
      'Operations, the read API over the dependency index, and its change feed. Read-only. With `--admin-token` set, every path but /healthz and /readyz answers 401 without the token.',
  },
  components: {
    securitySchemes: {
      basic: { type: 'http', scheme: 'basic', description: 'any user name; the token as password' },
      bearer: { type: 'http', scheme: 'bearer', description: 'the token' },
    },
  },
  security: [{ basic: [] }, { bearer: [] }, {}],
  paths: {
    '/healthz': { get: { summary: 'liveness', responses: { 200: json('the process is alive', object({ status: { const: 'alive' } })) } } },
    '/readyz': {
      get: {
        summary: 'readiness',
        responses: {
          200: json('the store is loaded, commits work and the protocol port listens', object({ status: { const: 'ready' } })),
          503: json('starting, stopping, or the store cannot commit', object({ status: { const: 'not-ready' } })),
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics',
        responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    '/v1/stats': {
      get: {
        summary: 'the index at a glance',
        responses: {
          200: json(
            'sizes, traffic, and the most depended-upon packages, roots (nothing depends on them) and leaves (no dependencies)',
            object({
              packages: COUNT,
              dependencies: COUNT,
              connections: COUNT,
              uptimeSeconds: COUNT,
              commandsPerSecond: { type: 'number', minimum: 0 },
              mostDependedUpon: { type: 'array', items: object({ name: NAME, count: COUNT }) },
              roots: NAMED_SAMPLE,
              leaves: NAMED_SAMPLE,
            }),
          ),
        },
      },
    },
    '/v1/stats/history': {
      get: {
        summary: 'the last five minutes of traffic, one sample a second, for charts',
        parameters: [
          {
            name: 'after',
            in: 'query',
            description: 'only samples taken after this time, in ms since the epoch',
            schema: { type: 'integer', minimum: 0, default: 0 },
          },
        ],
        responses: {
          200: json(
            'samples oldest first: commands per second by `COMMAND RESULT` over that second, and the 99th percentile of command latency and of store commit time (null when there were none)',
            object({
              samples: {
                type: 'array',
                items: object({
                  atMs: COUNT,
                  commandsPerSecond: { type: 'object' },
                  p99Ms: { oneOf: [{ type: 'number', minimum: 0 }, { type: 'null' }] },
                  commitP99Ms: { oneOf: [{ type: 'number', minimum: 0 }, { type: 'null' }] },
                }),
              },
            }),
          ),
          400: badRequest,
        },
      },
    },
    '/v1/packages': {
      get: {
        summary: 'names in code-point order, a page at a time',
        parameters: [
          { name: 'prefix', in: 'query', schema: { type: 'string', pattern: '^[A-Za-z0-9._+@/:~-]{0,255}$', default: '' } },
          { name: 'cursor', in: 'query', description: "the previous page's nextCursor", schema: NAME },
          limit(LIMITS.page, 'names'),
        ],
        responses: { 200: json('a page of names', object({ packages: NAMES, nextCursor: { oneOf: [NAME, { type: 'null' }] } })), 400: badRequest },
      },
    },
    '/v1/packages/{name}': {
      get: {
        summary: 'one package with its direct dependencies and dependents',
        parameters: [nameInPath, limit(LIMITS.dependents, 'dependents')],
        responses: {
          200: json('the package', object({ name: NAME, dependencies: NAMES, dependents: NAMES, dependentsTotal: COUNT, truncated: { type: 'boolean' } })),
          400: badRequest,
          404: notFound,
        },
      },
    },
    '/v1/packages/{name}/dependencies': closurePath('dependencies', 'everything the package pulls in'),
    '/v1/packages/{name}/dependents': closurePath('dependents', 'everything that stands in the way of removing the package'),
    '/v1/packages/{name}/install-order': {
      get: {
        summary: 'the package and everything it needs, each after its own dependencies, the package last',
        parameters: [nameInPath, limit(LIMITS.installOrder, 'packages')],
        responses: {
          200: json('an order to install in', object({ name: NAME, total: COUNT, truncated: { type: 'boolean' }, order: NAMES })),
          400: badRequest,
          404: notFound,
          409: json(
            'the dependencies form a cycle: each member depends on the next, the last on the first',
            object({ error: { const: 'cycle' }, name: NAME, cycle: NAMES, message: { type: 'string' } }),
          ),
        },
      },
    },
    '/v1/path': {
      get: {
        summary: 'why does one package depend on another: a shortest chain of "depends on" edges',
        parameters: [
          { name: 'from', in: 'query', required: true, schema: NAME },
          { name: 'to', in: 'query', required: true, schema: NAME },
        ],
        responses: {
          200: json('the chain, from first and to last', object({ from: NAME, to: NAME, path: NAMES })),
          400: badRequest,
          404: json('a package is not indexed (`not-found`), or no chain leads from one to the other (`no-path`)', {
            oneOf: [NOT_FOUND, object({ error: { const: 'no-path' }, from: NAME, to: NAME, message: { type: 'string' } })],
          }),
        },
      },
    },
    '/v1/cycles': {
      get: {
        summary: 'groups of packages that depend on each other (strongly connected components of two or more)',
        parameters: [limit(LIMITS.cycles, 'cycles')],
        responses: {
          200: json(
            'the largest groups first, members by name',
            object({ total: COUNT, truncated: { type: 'boolean' }, cycles: { type: 'array', items: NAMES } }),
          ),
          400: badRequest,
        },
      },
    },
    '/v1/changes': {
      get: {
        summary: 'the change feed: server-sent events, one `change` event per committed change',
        parameters: [
          { name: 'Last-Event-ID', in: 'header', description: 'resume after this event id (`<epoch>.<seq>`)', schema: { type: 'string' } },
          { name: 'after', in: 'query', description: 'the same as Last-Event-ID, for clients that cannot set headers', schema: { type: 'string' } },
        ],
        responses: {
          200: {
            description:
              '`event: change` with `data` {seq, command (INDEX or REMOVE), name, dependencies}; `event: reset` first when the changes after the position asked for are no longer known, and later if changes were lost (a PostgreSQL server fell behind its database)',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          400: badRequest,
        },
      },
    },
    '/v1/export': {
      get: {
        summary:
          'the whole index at one moment, every package after its dependencies (ties and dependency lists by name), so that `package-indexer import` rebuilds it',
        parameters: [
          {
            name: 'format',
            in: 'query',
            description: '`homebrew` (`name: dep1 dep2` a line, the default) or `jsonl` ({name, dependencies} a line)',
            schema: { type: 'string', enum: ['homebrew', 'jsonl'] },
          },
        ],
        responses: {
          200: {
            description:
              'one package a line; header `x-package-count` gives the lines, `x-held-by-cycles` how many of the last ones are in a cycle or depend on one (those come last, by name, and cannot be replayed through the protocol)',
            content: { 'text/plain': { schema: { type: 'string' } }, 'application/x-ndjson': { schema: { type: 'string' } } },
          },
          400: badRequest,
        },
      },
    },
    '/v1/snapshot': {
      get: {
        summary:
          'the index of one moment as a store file that `serve --data-dir` opens as it is (save it as DIR/index.db); serving goes on while it is written',
        responses: {
          200: {
            description: 'an SQLite database; `content-length` gives its size',
            content: { 'application/vnd.sqlite3': { schema: { type: 'string', contentMediaType: 'application/vnd.sqlite3' } } },
          },
        },
      },
    },
    '/v1/openapi.json': { get: { summary: 'this description', responses: { 200: json('OpenAPI 3.1', { type: 'object' }) } } },
  },
} as const;
