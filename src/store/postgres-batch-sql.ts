/**
 * The batch function (schema migrations 3 and 4): one call applies an ordered array of commands in one
 * transaction and returns their replies, so that the commands of one event-loop turn cost one round
 * trip and one commit (postgres-batcher.ts sends them). Each write is the statement a lone command
 * ran before schema 3, in a block of its own: a foreign key that refuses it rolls back that
 * command alone and answers FAIL, so the foreign keys still decide every FAIL.
 *
 * Why the function may stop early. At REPEATABLE READ a transaction reads one snapshot, taken when
 * it starts, and its writes take effect when it commits. A command that wrote, or saw a write of
 * this batch, happens at the commit: what it saw is locked until then (its own rows, the
 * dependencies' rows its foreign keys hold). A command that saw only the snapshot happens at its
 * start. One client's commands must happen in their order, so once a client has a command at the
 * commit, each later one must be as true at the commit: a QUERY that found its package locks it
 * (a concurrent REMOVE then conflicts, and the batch is retried), and a command that saw something
 * absent or refused (a package another server may create or free meanwhile) is not run: the
 * function stops before it and returns the replies so far. The rest goes in the next transaction,
 * which starts after this one commits; the first command of a transaction is never held back.
 * docs/postgres.md has the argument at length.
 */
import type { Statement } from './postgres-schema.js';

/** Reply codes in the function's result, one character per command. */
export const BATCH_REPLY = { OK: 'O', FAIL: 'F' } as const;
/** Command codes in the function's `kinds` argument. */
export const BATCH_KIND = { INDEX: 'I', REMOVE: 'R', QUERY: 'Q' } as const;

/**
 * kinds: one character per command; names: each command's package; deps: every INDEX's
 * dependencies one after another, command i's ending at dep_ends[i] (every command has its entry,
 * a QUERY's or a REMOVE's repeating the one before, so command i's start is dep_ends[i - 1] + 1); clients: which client sent
 * each command (any integers, equal for one client's). Returns one reply character per command run
 * (a prefix of the commands), and whether any of them recorded a change.
 */
const APPLY_FUNCTION = `
CREATE OR REPLACE FUNCTION package_indexer_apply(kinds text, names text[], deps text[], dep_ends integer[], clients integer[])
RETURNS TABLE (replies text, changed boolean) LANGUAGE plpgsql
-- every statement here looks a few rows up by key. Plans made while a table was nearly empty (a
-- new database) would otherwise scan it whole, in every session that cached them, long after it
-- grew; a bitmap scan of a few rows costs more to set up than it saves. Generic plans: left to
-- choose, the plan cache planned the statements with subqueries anew on every call, a quarter of
-- the time of a one-command batch (docs/postgres.md)
SET enable_seqscan = off
SET enable_bitmapscan = off
SET plan_cache_mode = force_generic_plan
AS $fn$
DECLARE
  done text := '';
  -- packages this transaction created or removed: their state is ours until commit
  touched text[] COLLATE "C" := '{}';
  -- of those, the ones removed; and the dependencies this transaction's INDEXes listed
  removed text[] COLLATE "C" := '{}';
  depended text[] COLLATE "C" := '{}';
  -- clients with a command that happens at the commit
  at_commit boolean[] := '{}';
  client integer;
  command_name text COLLATE "C";
  wanted text[] COLLATE "C";
  dep_start integer := 1;
  reply text;
  unchanged boolean;
  made_change boolean;
  -- the commands that changed the index, in order, and their change numbers, taken at the end
  changed_by integer[] := '{}';
  numbers bigint[] := '{}';
  command_index integer;
  -- [P-QUERY-1] each QUERY's package's presence in the snapshot, in one statement: what a QUERY of
  -- a package this transaction did not touch answers. A lookup per name (LATERAL): an EXISTS here
  -- may be planned as a hash of every package, built anew for each batch
  present boolean[] := ARRAY(SELECT f.found IS NOT NULL FROM unnest(names) WITH ORDINALITY AS q (name, k)
                             LEFT JOIN LATERAL (SELECT true AS found FROM packages p
                                                WHERE substr(kinds, q.k::integer, 1) = 'Q' AND p.name = q.name LIMIT 1) f ON true
                             ORDER BY q.k);
BEGIN
  -- this transaction numbers its own changes, below; the trigger is for older servers' statements
  PERFORM set_config('package_indexer.numbers_own_changes', 'on', true);
  FOR i IN 1 .. cardinality(names) LOOP
    command_name := names[i];
    client := clients[i];
    made_change := false;
    CASE substr(kinds, i, 1)
    WHEN 'Q' THEN
      IF command_name = ANY (touched) THEN
        reply := CASE WHEN EXISTS (SELECT FROM packages p WHERE p.name = command_name) THEN 'O' ELSE 'F' END;
        at_commit[client] := true;
      ELSIF coalesce(at_commit[client], false) THEN
        EXIT WHEN NOT present[i];
        PERFORM FROM packages p WHERE p.name = command_name FOR KEY SHARE;
        reply := 'O';
      ELSE
        reply := CASE WHEN present[i] THEN 'O' ELSE 'F' END;
      END IF;
    WHEN 'I' THEN
      wanted := deps[dep_start : dep_ends[i]];
      dep_start := dep_ends[i] + 1;
      -- the same list again (half the writes of a busy index): lock the package row, as the
      -- upsert would, and change nothing. Its dependency rows change only under that lock, so
      -- the snapshot's are current, or the lock fails with a serialization error. (A list with a
      -- name twice never compares equal, and takes the statement below.)
      SELECT ARRAY(SELECT d.dependency FROM dependencies d WHERE d.package = p.name ORDER BY d.dependency)
             = ARRAY(SELECT w FROM unnest(wanted) AS w ORDER BY w)
      INTO unchanged FROM packages p WHERE p.name = command_name FOR NO KEY UPDATE OF p;
      IF coalesce(unchanged, false) THEN
        reply := 'O';
        touched := touched || command_name;
        at_commit[client] := true;
      ELSE
      BEGIN
        -- [P-INDEX-1] the upsert always writes the package row, so two concurrent INDEXes of one
        -- package conflict and one is retried, never mixed; it writes revision, not the key, so
        -- it takes the row lock that other packages' foreign-key checks (KEY SHARE) do not wait
        -- for. A dependency that is not indexed fails the foreign key (23503) and the whole
        -- statement. Rows kept and rows added are disjoint, so the CTEs' order does not matter.
        -- The package changed when it was created or its list changed
        WITH package AS (
          INSERT INTO packages AS p (name) VALUES (command_name)
          ON CONFLICT (name) DO UPDATE SET revision = p.revision + 1
          RETURNING p.name, p.revision = 1 AS created
        ), dropped AS (
          DELETE FROM dependencies d WHERE d.package = command_name AND NOT (d.dependency = ANY (wanted))
          RETURNING d.dependency
        ), added AS (
          INSERT INTO dependencies (package, dependency)
          SELECT package.name, w.dependency FROM package, unnest(wanted) AS w (dependency)
          ON CONFLICT (package, dependency) DO NOTHING
          RETURNING dependencies.dependency
        )
        SELECT package.created OR EXISTS (SELECT FROM dropped) OR EXISTS (SELECT FROM added)
        INTO made_change FROM package;
        reply := 'O';
        touched := touched || command_name;
        depended := depended || wanted;
        at_commit[client] := true;
      EXCEPTION WHEN foreign_key_violation OR restrict_violation THEN
        -- refused for a dependency absent from the snapshot, unless this transaction removed it
        EXIT WHEN coalesce(at_commit[client], false) OR wanted && removed;
        reply := 'F';
      END;
      END IF;
    ELSE
      BEGIN
        -- [P-REMOVE-1] its own dependency rows cascade; a dependent's row refuses it (23503; NO
        -- ACTION, checked at the end of the statement: PostgreSQL 18 reports RESTRICT as 23001)
        DELETE FROM packages p WHERE p.name = command_name;
        made_change := FOUND;
        IF made_change OR command_name = ANY (touched) THEN
          touched := touched || command_name;
          removed := removed || command_name;
          at_commit[client] := true;
        ELSE
          -- nothing to remove in the snapshot: another server may index it before we commit
          EXIT WHEN coalesce(at_commit[client], false);
        END IF;
        reply := 'O';
      EXCEPTION WHEN foreign_key_violation OR restrict_violation THEN
        -- refused by a dependent of the snapshot, unless this transaction's INDEXes added one
        EXIT WHEN coalesce(at_commit[client], false) OR command_name = ANY (depended);
        reply := 'F';
      END;
    END CASE;
    IF made_change THEN
      changed_by := changed_by || i;
    END IF;
    done := done || reply;
  END LOOP;
  -- every check of the transaction was made by the end of its last command: numbered now, the
  -- changes are numbered after every transaction they waited for (postgres-change-sql.ts), in
  -- the batch's order (taken here one by one, so that no plan can reorder them), and written in
  -- one statement, which a batch that changed nothing (QUERYs alone, most often) skips
  IF cardinality(changed_by) > 0 THEN
    FOREACH command_index IN ARRAY changed_by LOOP
      numbers := numbers || nextval('package_indexer_change_numbers');
    END LOOP;
    INSERT INTO changes (seq, command, name, dependencies)
    SELECT c.seq,
           CASE substr(kinds, c.i, 1) WHEN 'I' THEN 'INDEX' ELSE 'REMOVE' END,
           names[c.i],
           CASE substr(kinds, c.i, 1) WHEN 'I' THEN deps[coalesce(dep_ends[c.i - 1], 0) + 1 : dep_ends[c.i]] ELSE '{}' END
    FROM unnest(changed_by, numbers) AS c (i, seq);
  END IF;
  RETURN QUERY SELECT done, cardinality(changed_by) > 0;
END
$fn$`;

/**
 * The batch function numbers its changes itself, once, at its end, which costs a fraction of a
 * trigger call per row; the trigger still numbers the rows of servers of schema version 2.
 */
const NUMBERING_TRIGGER = [
  'DROP TRIGGER changes_numbered_at_commit ON changes',
  `CREATE CONSTRAINT TRIGGER changes_numbered_at_commit AFTER INSERT ON changes
   DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
   WHEN (current_setting('package_indexer.numbers_own_changes', true) IS DISTINCT FROM 'on')
   EXECUTE FUNCTION package_indexer_number_change()`,
];

/**
 * Schema 3 gave the numbering trigger its condition and created the function. Schema 4 replaced
 * the function (generic plans, the change rows written once at the end); a database created
 * anew gets the current function from both, the second replacing it with itself.
 */
export const BATCH_FUNCTIONS: readonly string[] = [...NUMBERING_TRIGGER, APPLY_FUNCTION];
export const BATCH_FUNCTION_UPDATE: readonly string[] = [APPLY_FUNCTION];

/** $1..$5 as the function takes them. */
export const APPLY_STATEMENT: Statement = {
  name: 'package_indexer_apply',
  text: 'SELECT replies, changed FROM package_indexer_apply($1::text, $2::text[], $3::text[], $4::integer[], $5::integer[])',
};
