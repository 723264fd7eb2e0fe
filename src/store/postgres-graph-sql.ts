/**
 * The graph questions on PostgreSQL: PL/pgSQL functions that schema migration 2 installs, and the
 * statements the reader runs. They answer exactly as src/graph/graph-questions.ts does (the reader
 * contract checks it). A recursive CTE with UNION finds a closure's members in O(edges), but it
 * cannot carry each member's shortest distance without revisiting members once per path, which
 * never ends on a cycle; so closures and paths are breadth-first loops, level by level, each level
 * one set operation; install order and cycles are in postgres-order-sql.ts. Each question is one
 * statement: one snapshot, at REPEATABLE READ like every statement of ours, and nothing written.
 */
import { CYCLES_FUNCTION, INSTALL_ORDER_FUNCTION } from './postgres-order-sql.js';
import type { Statement } from './postgres-schema.js';

/** Breadth-first from `start`, up to `max_depth` levels (NULL: all), one row per package reached. */
const CLOSURE_FUNCTION = `
CREATE OR REPLACE FUNCTION package_indexer_closure(start text, toward_dependents boolean, max_depth integer)
RETURNS TABLE (member text, distance integer) LANGUAGE plpgsql STABLE AS $fn$
DECLARE
  frontier text[] COLLATE "C" := ARRAY[start];
  seen text[] COLLATE "C" := ARRAY[start];
  level integer := 0;
BEGIN
  WHILE cardinality(frontier) > 0 AND (max_depth IS NULL OR level < max_depth) LOOP
    level := level + 1;
    IF toward_dependents THEN
      frontier := ARRAY(SELECT d.package FROM dependencies d WHERE d.dependency = ANY (frontier) EXCEPT SELECT unnest(seen));
    ELSE
      frontier := ARRAY(SELECT d.dependency FROM dependencies d WHERE d.package = ANY (frontier) EXCEPT SELECT unnest(seen));
    END IF;
    seen := seen || frontier;
    RETURN QUERY SELECT unnest(frontier), level;
  END LOOP;
END
$fn$`;

/**
 * A shortest "depends on" chain, found breadth-first and walked back choosing the smallest name at
 * each level; NULL when there is none or either end is not indexed. `seen` holds the levels one
 * after another, level k starting at `level_starts[k + 1]`.
 */
const PATH_FUNCTION = `
CREATE OR REPLACE FUNCTION package_indexer_path(source text, target text)
RETURNS text[] LANGUAGE plpgsql STABLE AS $fn$
DECLARE
  frontier text[] COLLATE "C" := ARRAY[source];
  seen text[] COLLATE "C" := ARRAY[source];
  level_starts integer[] := ARRAY[1];
  chain text[] COLLATE "C" := ARRAY[target];
  here text COLLATE "C" := target;
BEGIN
  IF NOT EXISTS (SELECT FROM packages WHERE name = source) OR NOT EXISTS (SELECT FROM packages WHERE name = target) THEN
    RETURN NULL;
  END IF;
  WHILE NOT (target = ANY (frontier)) LOOP
    frontier := ARRAY(SELECT d.dependency FROM dependencies d WHERE d.package = ANY (frontier) EXCEPT SELECT unnest(seen));
    IF cardinality(frontier) = 0 THEN
      RETURN NULL;
    END IF;
    level_starts := level_starts || (cardinality(seen) + 1);
    seen := seen || frontier;
  END LOOP;
  FOR k IN REVERSE cardinality(level_starts) - 1 .. 1 LOOP
    here := (SELECT min(d.package) FROM dependencies d
             WHERE d.dependency = here AND d.package = ANY (seen[level_starts[k] : level_starts[k + 1] - 1]));
    chain := here || chain;
  END LOOP;
  RETURN chain;
END
$fn$`;

export const GRAPH_FUNCTIONS: readonly string[] = [CLOSURE_FUNCTION, PATH_FUNCTION, INSTALL_ORDER_FUNCTION, CYCLES_FUNCTION];

/** $1 the package, $2 toward dependents, $3 the depth (NULL: all), $4 how many to list. No row when it is not indexed. */
export const CLOSURE_STATEMENT: Statement = {
  name: 'package_indexer_closure',
  text: `WITH closure AS MATERIALIZED (SELECT member, distance FROM package_indexer_closure($1, $2, $3))
         SELECT (SELECT count(*) FROM closure) AS total,
                (SELECT coalesce(json_agg(json_build_object('name', member, 'depth', distance) ORDER BY distance, member COLLATE "C"), '[]')
                 FROM (SELECT member, distance FROM closure ORDER BY distance, member COLLATE "C" LIMIT $4) listed) AS packages
         FROM packages WHERE name = $1`,
};

export const INSTALL_ORDER_STATEMENT: Statement = {
  name: 'package_indexer_install_order',
  text: 'SELECT total, install_order, cycle FROM package_indexer_install_order($1, $2)',
};

export const PATH_STATEMENT: Statement = { name: 'package_indexer_path', text: 'SELECT package_indexer_path($1, $2) AS path' };

export const CYCLES_STATEMENT: Statement = { name: 'package_indexer_cycles', text: 'SELECT total, cycles FROM package_indexer_cycles($1)' };

/** $1 how many of the most depended-upon, $2 how many names of roots and of leaves. */
export const SUMMARY_STATEMENT: Statement = {
  name: 'package_indexer_summary',
  text: `SELECT
           (SELECT coalesce(json_agg(json_build_object('name', dependency, 'count', dependents) ORDER BY dependents DESC, dependency), '[]')
            FROM (SELECT dependency, count(*) AS dependents FROM dependencies GROUP BY dependency
                  ORDER BY dependents DESC, dependency LIMIT $1) top) AS most_depended_upon,
           (SELECT count(*) FROM packages p WHERE NOT EXISTS (SELECT FROM dependencies d WHERE d.dependency = p.name)) AS roots_total,
           ARRAY(SELECT p.name FROM packages p WHERE NOT EXISTS (SELECT FROM dependencies d WHERE d.dependency = p.name)
                 ORDER BY p.name LIMIT $2) AS roots,
           (SELECT count(*) FROM packages p WHERE NOT EXISTS (SELECT FROM dependencies d WHERE d.package = p.name)) AS leaves_total,
           ARRAY(SELECT p.name FROM packages p WHERE NOT EXISTS (SELECT FROM dependencies d WHERE d.package = p.name)
                 ORDER BY p.name LIMIT $2) AS leaves`,
};
