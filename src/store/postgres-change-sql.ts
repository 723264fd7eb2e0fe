/**
 * The change table and the statements around it (schema migration 2; the feed that follows the
 * table is src/store/postgres-change-feed.ts).
 *
 * A change row written by a lone statement gets a provisional (negative) number, and is numbered at
 * commit by a deferred trigger, after every check of its transaction:
 * foreign keys are checked at the end of the statement, after its CTEs ran, and one that waited
 * for another transaction may pass only because that transaction committed first. Numbered
 * earlier, a REMOVE could take 98 while the re-INDEX that freed it takes 99 and commits before it.
 * Numbered at commit, a transaction whose outcome depended on another is numbered after it, and a
 * refused statement takes no number at all. The batch function numbers its own rows the same way,
 * after its last command (postgres-batch-sql.ts; since schema 4 it writes them there, already
 * numbered), and the trigger skips them.
 */
import type { Statement } from './postgres-schema.js';

export const CHANGE_CHANNEL = 'package_indexer_changes';

export const CHANGE_TABLES: readonly string[] = [
  // CACHE 1 (the default) must stay: with a cache per session, a later nextval could return a
  // smaller number, and the feed's gap rule relies on numbers growing in the order they are taken
  'CREATE SEQUENCE package_indexer_change_numbers',
  'CREATE SEQUENCE package_indexer_provisional_numbers',
  `CREATE TABLE changes (
     seq bigint PRIMARY KEY DEFAULT -nextval('package_indexer_provisional_numbers'),
     command text NOT NULL CHECK (command IN ('INDEX', 'REMOVE')),
     name text COLLATE "C" NOT NULL,
     dependencies text[] COLLATE "C" NOT NULL
   )`,
  `CREATE FUNCTION package_indexer_number_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
   BEGIN
     UPDATE changes SET seq = nextval('package_indexer_change_numbers') WHERE seq = NEW.seq;
     RETURN NULL;
   END
   $fn$`,
  `CREATE CONSTRAINT TRIGGER changes_numbered_at_commit AFTER INSERT ON changes
   DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION package_indexer_number_change()`,
  // one row: the epoch names this database's numbering; changes up to pruned_through are gone
  `CREATE TABLE package_indexer_feed (
     only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
     epoch text NOT NULL,
     pruned_through bigint NOT NULL DEFAULT 0
   )`,
  'INSERT INTO package_indexer_feed (epoch) VALUES (substr(md5(random()::text || clock_timestamp()::text), 1, 12))',
];

/** $1 the last number known, $2 how many rows; with the snapshot's oldest running transaction. */
export const CHANGES_AFTER_STATEMENT: Statement = {
  name: 'package_indexer_changes_after',
  text: `SELECT f.epoch, f.pruned_through, pg_snapshot_xmin(pg_current_snapshot())::text AS oldest_running,
           (SELECT coalesce(json_agg(c ORDER BY c.seq), '[]')
            FROM (SELECT seq, command, name, dependencies FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2) c) AS changes
         FROM package_indexer_feed f`,
};

/** A transaction id of our own: larger than that of any transaction that started before. */
export const TAKE_XID_STATEMENT: Statement = { name: 'package_indexer_take_xid', text: 'SELECT pg_current_xact_id()::text AS xid' };

export const NOTIFY_STATEMENT: Statement = { name: 'package_indexer_notify', text: `SELECT pg_notify('${CHANGE_CHANNEL}', $1)` };

/** $1 the last number to drop. Two servers pruning at once: one fails (40001) and tries later. */
export const PRUNE_STATEMENT: Statement = {
  name: 'package_indexer_prune_changes',
  text: `WITH pruned AS (DELETE FROM changes WHERE seq BETWEEN 1 AND $1)
         UPDATE package_indexer_feed SET pruned_through = $1 WHERE pruned_through < $1`,
};
