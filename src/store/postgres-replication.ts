/**
 * What a failover of the shared database could lose, read at startup (docs/postgres.md,
 * "Failover"). An OK is sent once PostgreSQL acknowledged the commit; a standby promoted after the
 * primary's death holds that commit only if the primary waited for the standby before
 * acknowledging: `synchronous_standby_names` names it and our sessions' `synchronous_commit` is
 * `on`, `remote_write` or `remote_apply` (`local` and `off` do not wait). With
 * --require-synchronous-standby the server refuses to start otherwise; without it, it says once
 * what a failover could cost.
 */
import { StoreOpenError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SqlPool } from './postgres-pool.js';

/** The synchronous_commit levels at which a commit waits for the synchronous standbys. */
const WAITING_LEVELS = ['on', 'remote_write', 'remote_apply'];

export interface ReplicationState {
  readonly synchronousStandbyNames: string;
  /** synchronous_commit as our sessions have it (a URL's `options` may change it). */
  readonly synchronousCommit: string;
  /** Standbys streaming from this server; only a role with pg_read_all_stats sees how. */
  readonly standbys: number;
  /** Of those, the ones the primary waits for; undefined when we may not see it. */
  readonly synchronousStandbys: number | undefined;
}

const REPLICATION_STATEMENT = {
  name: 'package_indexer_replication',
  text: `SELECT current_setting('synchronous_standby_names') AS names,
                current_setting('synchronous_commit') AS commit_level,
                count(*)::int AS standbys,
                count(*) FILTER (WHERE sync_state IN ('sync', 'quorum'))::int AS synchronous,
                count(*) FILTER (WHERE sync_state IS NULL)::int AS hidden
         FROM pg_stat_replication`,
};

export async function readReplication(pool: SqlPool): Promise<ReplicationState> {
  const [row] = await pool.query(REPLICATION_STATEMENT.name, REPLICATION_STATEMENT.text, []);
  const hidden = Number(row?.['hidden'] ?? 0);
  return {
    synchronousStandbyNames: String(row?.['names'] ?? ''),
    synchronousCommit: String(row?.['commit_level'] ?? ''),
    standbys: Number(row?.['standbys'] ?? 0),
    synchronousStandbys: hidden > 0 ? undefined : Number(row?.['synchronous'] ?? 0),
  };
}

/** Why a failover could lose acknowledged writes, or undefined when commits wait for a standby. */
function whyNotSynchronous(state: ReplicationState): string | undefined {
  if (state.synchronousStandbyNames.trim() === '') return 'synchronous_standby_names is empty, so commits are acknowledged before any standby has them';
  if (!WAITING_LEVELS.includes(state.synchronousCommit))
    return `synchronous_commit is ${state.synchronousCommit} for our sessions, so commits are acknowledged before the standby has them`;
  return undefined;
}

/**
 * Refuses (PI_ERR_STORE_OPEN_NOT_SYNCHRONOUS) when `require` and commits do not wait for a standby;
 * otherwise logs, once, what a failover could lose.
 */
export function checkReplication(state: ReplicationState, require: boolean, location: string, logger: Logger): void {
  const why = whyNotSynchronous(state);
  const facts = { ...state };
  if (why !== undefined && require) {
    throw new StoreOpenError(
      'PI_ERR_STORE_OPEN_NOT_SYNCHRONOUS',
      location,
      `--require-synchronous-standby: PostgreSQL at ${location} does not commit synchronously to a standby: ${why}`,
    );
  }
  if (why !== undefined) {
    logger.warn(facts, `a failover of PostgreSQL could lose the writes acknowledged just before it: ${why} (docs/postgres.md, "Failover")`);
    return;
  }
  if (state.synchronousStandbys === 0) {
    logger.warn(facts, 'commits wait for a synchronous standby, but none is connected: writes will wait until one is');
    return;
  }
  logger.info(facts, 'commits wait for a synchronous standby: a failover to it loses no acknowledged write');
}
