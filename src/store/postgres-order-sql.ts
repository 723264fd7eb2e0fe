/**
 * The two graph questions that need every member of a set before answering, as PL/pgSQL functions
 * (installed by schema migration 2 through postgres-graph-sql.ts): install order and cycles. Both
 * number the packages they look at by name, so that the smallest id is the smallest name, build
 * adjacency arrays (first edge of each id, then the edges) in one statement, and run the same
 * algorithms as src/graph/graph-questions.ts over integer arrays, which PL/pgSQL updates in place.
 */

/**
 * Kahn's algorithm over the closure of `start` with a min-heap of ids, so that the smallest name
 * ready goes next: the lexicographically smallest order. When the closure holds a cycle, `cycle`
 * is one, found by following unplaced dependencies from an unplaced package until one repeats.
 * All NULL when `start` is not indexed.
 */
export const INSTALL_ORDER_FUNCTION = `
CREATE OR REPLACE FUNCTION package_indexer_install_order(start text, max_listed integer,
  OUT total integer, OUT install_order text[], OUT cycle text[])
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
  names text[] COLLATE "C";
  remaining integer[];
  first_dependent integer[];
  dependent_ids integer[];
  first_dependency integer[];
  dependency_ids integer[];
  heap integer[];
  heap_size integer;
  placed integer := 0;
  node integer;
  other integer;
  last integer;
  at integer;
  child integer;
  step integer[];
BEGIN
  IF NOT EXISTS (SELECT FROM packages WHERE name = start) THEN
    RETURN;
  END IF;
  WITH RECURSIVE closure (name) AS (
    SELECT start COLLATE "C"
    UNION SELECT d.dependency FROM closure JOIN dependencies d ON d.package = closure.name
  )
  SELECT array_agg(closure.name ORDER BY closure.name) INTO names FROM closure;
  total := cardinality(names);
  WITH ids AS (SELECT u.name, u.id::integer AS id FROM unnest(names) WITH ORDINALITY AS u (name, id)),
  edges AS (SELECT p.id AS package, q.id AS dependency
            FROM ids p JOIN dependencies d ON d.package = p.name JOIN ids q ON q.name = d.dependency),
  outs AS (SELECT package AS id, count(*)::integer AS c FROM edges GROUP BY package),
  ins AS (SELECT dependency AS id, count(*)::integer AS c FROM edges GROUP BY dependency),
  counted AS (SELECT ids.id, coalesce(outs.c, 0) AS outs, coalesce(ins.c, 0) AS ins
              FROM ids LEFT JOIN outs ON outs.id = ids.id LEFT JOIN ins ON ins.id = ids.id),
  starts AS (SELECT id, outs,
               (sum(outs) OVER (ORDER BY id) - outs + 1)::integer AS first_out,
               (sum(ins) OVER (ORDER BY id) - ins + 1)::integer AS first_in
             FROM counted)
  SELECT ARRAY(SELECT outs FROM starts ORDER BY id),
         ARRAY(SELECT first_in FROM starts ORDER BY id) || (SELECT count(*)::integer + 1 FROM edges),
         ARRAY(SELECT e.package FROM edges e ORDER BY e.dependency, e.package),
         ARRAY(SELECT first_out FROM starts ORDER BY id) || (SELECT count(*)::integer + 1 FROM edges),
         ARRAY(SELECT e.dependency FROM edges e ORDER BY e.package, e.dependency)
  INTO remaining, first_dependent, dependent_ids, first_dependency, dependency_ids;
  -- ids ready from the start, ascending: a sorted array is already a heap
  heap := ARRAY(SELECT i FROM generate_subscripts(remaining, 1) AS i WHERE remaining[i] = 0 ORDER BY i);
  heap_size := cardinality(heap);
  install_order := '{}';
  WHILE heap_size > 0 LOOP
    node := heap[1];
    last := heap[heap_size];
    heap_size := heap_size - 1;
    at := 1;
    LOOP
      child := 2 * at;
      EXIT WHEN child > heap_size;
      IF child < heap_size AND heap[child + 1] < heap[child] THEN
        child := child + 1;
      END IF;
      EXIT WHEN heap[child] >= last;
      heap[at] := heap[child];
      at := child;
    END LOOP;
    IF heap_size > 0 THEN
      heap[at] := last;
    END IF;
    placed := placed + 1;
    IF placed <= max_listed THEN
      install_order[placed] := names[node];
    END IF;
    FOR k IN first_dependent[node] .. first_dependent[node + 1] - 1 LOOP
      other := dependent_ids[k];
      remaining[other] := remaining[other] - 1;
      IF remaining[other] = 0 THEN
        heap_size := heap_size + 1;
        at := heap_size;
        WHILE at > 1 AND heap[at / 2] > other LOOP
          heap[at] := heap[at / 2];
          at := at / 2;
        END LOOP;
        heap[at] := other;
      END IF;
    END LOOP;
  END LOOP;
  IF placed = total THEN
    RETURN;
  END IF;
  install_order := NULL;
  total := NULL;
  step := array_fill(0, ARRAY[cardinality(names)]);
  node := (SELECT min(i) FROM generate_subscripts(remaining, 1) AS i WHERE remaining[i] > 0);
  WHILE step[node] = 0 LOOP
    FOR k IN first_dependency[node] .. first_dependency[node + 1] - 1 LOOP
      other := dependency_ids[k];
      EXIT WHEN remaining[other] > 0;
    END LOOP;
    step[node] := other;
    node := other;
  END LOOP;
  cycle := ARRAY[names[node]];
  other := step[node];
  WHILE other <> node LOOP
    cycle := cycle || names[other];
    other := step[other];
  END LOOP;
END
$fn$`;

/**
 * Tarjan's strongly connected components over every package, iterative (an explicit stack of
 * frames: a package and the position of the next dependency to look at). Components of more than
 * one member are numbered in `component_of`; the answer lists each by name, largest first, then
 * by first name.
 */
export const CYCLES_FUNCTION = `
CREATE OR REPLACE FUNCTION package_indexer_cycles(max_listed integer, OUT total integer, OUT cycles json)
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
  names text[] COLLATE "C";
  n integer;
  first_dependency integer[];
  dependency_ids integer[];
  visit_index integer[];
  low integer[];
  on_stack boolean[];
  component_of integer[];
  stack integer[] := '{}';
  stack_size integer := 0;
  frame_ids integer[] := '{}';
  frame_next integer[] := '{}';
  frames integer;
  counter integer := 0;
  node integer;
  other integer;
  edge integer;
  member integer;
  members integer;
BEGIN
  names := ARRAY(SELECT name FROM packages ORDER BY name);
  n := cardinality(names);
  total := 0;
  cycles := '[]';
  IF n = 0 THEN
    RETURN;
  END IF;
  WITH ids AS (SELECT u.name, u.id::integer AS id FROM unnest(names) WITH ORDINALITY AS u (name, id)),
  edges AS (SELECT p.id AS package, q.id AS dependency
            FROM dependencies d JOIN ids p ON p.name = d.package JOIN ids q ON q.name = d.dependency),
  outs AS (SELECT package AS id, count(*)::integer AS c FROM edges GROUP BY package),
  starts AS (SELECT ids.id, (sum(coalesce(outs.c, 0)) OVER (ORDER BY ids.id) - coalesce(outs.c, 0) + 1)::integer AS first_out
             FROM ids LEFT JOIN outs ON outs.id = ids.id)
  SELECT ARRAY(SELECT first_out FROM starts ORDER BY id) || (SELECT count(*)::integer + 1 FROM edges),
         ARRAY(SELECT e.dependency FROM edges e ORDER BY e.package, e.dependency)
  INTO first_dependency, dependency_ids;
  visit_index := array_fill(0, ARRAY[n]);
  low := array_fill(0, ARRAY[n]);
  on_stack := array_fill(false, ARRAY[n]);
  component_of := array_fill(0, ARRAY[n]);
  FOR root IN 1 .. n LOOP
    CONTINUE WHEN visit_index[root] <> 0;
    counter := counter + 1;
    visit_index[root] := counter;
    low[root] := counter;
    stack_size := stack_size + 1;
    stack[stack_size] := root;
    on_stack[root] := true;
    frames := 1;
    frame_ids[1] := root;
    frame_next[1] := first_dependency[root];
    WHILE frames > 0 LOOP
      node := frame_ids[frames];
      edge := frame_next[frames];
      IF edge < first_dependency[node + 1] THEN
        frame_next[frames] := edge + 1;
        other := dependency_ids[edge];
        IF visit_index[other] = 0 THEN
          counter := counter + 1;
          visit_index[other] := counter;
          low[other] := counter;
          stack_size := stack_size + 1;
          stack[stack_size] := other;
          on_stack[other] := true;
          frames := frames + 1;
          frame_ids[frames] := other;
          frame_next[frames] := first_dependency[other];
        ELSIF on_stack[other] THEN
          low[node] := least(low[node], visit_index[other]);
        END IF;
        CONTINUE;
      END IF;
      frames := frames - 1;
      IF frames > 0 THEN
        low[frame_ids[frames]] := least(low[frame_ids[frames]], low[node]);
      END IF;
      CONTINUE WHEN low[node] <> visit_index[node];
      members := 0;
      LOOP
        member := stack[stack_size - members];
        on_stack[member] := false;
        members := members + 1;
        EXIT WHEN member = node;
      END LOOP;
      IF members > 1 THEN
        total := total + 1;
        FOR k IN stack_size - members + 1 .. stack_size LOOP
          component_of[stack[k]] := total;
        END LOOP;
      END IF;
      stack_size := stack_size - members;
    END LOOP;
  END LOOP;
  SELECT coalesce(json_agg(c.members ORDER BY c.size DESC, c.first), '[]') INTO cycles
  FROM (SELECT array_agg(names[m.id] ORDER BY m.id) AS members, count(*) AS size, min(m.id) AS first
        FROM unnest(component_of) WITH ORDINALITY AS m (component, id)
        WHERE m.component > 0
        GROUP BY m.component
        ORDER BY size DESC, first
        LIMIT max_listed) c;
END
$fn$`;
