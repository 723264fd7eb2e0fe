/**
 * The embedded default: the in-memory graph answers every command, and an SQLite file in the data
 * directory is its durable copy, row for row (a package's row is keyed by its id in the graph).
 * Group commit: the changes of one event-loop turn are written in one transaction, and no reply
 * of that turn (reads included) is released before it commits. A failed commit undoes the turn's
 * changes on the graph, so graph and file stay equal, and turns every reply of the turn into
 * ERROR: an OK never leaves for a change that is not stored. With `--fsync always` a turn's replies
 * also wait for the fsync of its commit, which runs off the event loop (wal-sync.ts): meanwhile
 * later turns are applied and written, and are answered in order. A QUERY waits only for the last
 * unsynced commit that changed its package, if any: one about a package no pending commit touched
 * is answered at once, as its answer is the same before and after those commits. Whether the
 * store can commit at all, and whether its file is still the one at its path, is
 * sqlite-health.ts's to tell.
 */
import path from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import type { FsyncMode } from '../config.js';
import { StoreCommitError } from '../errors.js';
import { PackageGraph } from '../graph/package-graph.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Command, Reply } from '../protocol/types.js';
import type { Backend, IndexCounts } from './backend.js';
import { ChangeLog, type Change } from './change-log.js';
import { applyCommand, applyWrite, changeOf, type PreviousState } from './graph-access.js';
import { GraphReplica } from './graph-replica.js';
import { exportOfGraphState, type IndexExport } from './index-export.js';
import { snapshotOfGraphState, type StoreSnapshot } from './store-snapshot.js';
import { STORE_FILE_NAME, openStoreFile, refusal, type StoreFile } from './sqlite-file.js';
import { SqliteHealth } from './sqlite-health.js';
import { encodeDependencyIds, loadStore } from './sqlite-load.js';
import { type Fsync, WalSync } from './wal-sync.js';

export interface SqliteBackendOptions {
  /** Directory of the store file, created if missing. */
  readonly dataDir: string;
  /** 'always' syncs every commit to disk (survives power loss); 'normal' survives a process crash. */
  readonly fsync: FsyncMode;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** With fsync 'always': how the log is synced (tests hold a real fsync behind a gate). */
  readonly fsyncLog?: Fsync;
}

/** The changes of one event-loop turn, and the replies waiting for them to commit. */
interface Turn {
  /** Turns are committed and answered in this order. */
  readonly seq: number;
  /** Names whose package this turn changed; with fsync 'always' only, for the QUERYs that must wait for it. */
  readonly names: string[];
  /** Each id this turn changed, with its state before the turn: the state its row holds. */
  readonly changed: Map<number, PreviousState>;
  /** Every change's previous state, in the order made, to undo a failed commit. */
  readonly undo: PreviousState[];
  /** For the change feed, when anyone follows it. */
  readonly changes: Change[];
  readonly waiting: Array<{ readonly done: (replies: Reply[]) => void; readonly replies: Reply[] }>;
}

export class SqliteBackend implements Backend {
  readonly description: string;
  readonly changes = new ChangeLog();
  readonly reader: GraphReplica;
  #options: SqliteBackendOptions;
  #graph = new PackageGraph();
  #store: StoreFile | undefined;
  #health: SqliteHealth | undefined;
  #writeRows: ((rows: readonly number[]) => number) | undefined;
  /** With fsync 'always': the log's fsync, off the event loop. */
  #walSync: WalSync | undefined;
  #turn: Turn | undefined;
  #commitTimer: NodeJS.Immediate | undefined;
  /** The last turn written to the log whose fsync has not completed yet. */
  #unsynced: Turn | undefined;
  /** With fsync 'always': each name changed by a turn not yet durable, and the last such turn. */
  #pendingNames = new Map<string, Turn>();
  #turns = 0;

  constructor(options: SqliteBackendOptions) {
    this.#options = options;
    this.description = `sqlite ${path.join(options.dataDir, STORE_FILE_NAME)} (fsync ${options.fsync})`;
    this.reader = new GraphReplica(options.logger, () => ({ graph: this.#graph, feed: this.changes }));
  }

  /** Takes the directory's lock, loads the whole store into the graph, and checks it. */
  async open(): Promise<void> {
    if (this.#store !== undefined) return;
    const startedAt = performance.now();
    const store = openStoreFile(this.#options.dataDir, this.#options.logger);
    try {
      await loadStore(store.db, store.file, this.#graph);
      if (this.#options.fsync === 'always') {
        this.#walSync = new WalSync(`${store.file}-wal`, this.#options.fsyncLog);
        this.#walSync.open();
        this.#walSync.onSlotFree = () => this.#commit();
      }
    } catch (error) {
      this.#walSync?.close();
      this.#walSync = undefined;
      store.release();
      this.#graph = new PackageGraph();
      throw refusal(error, store.file);
    }
    this.#prepare(store);
    this.#store = store;
    this.#health = new SqliteHealth({ files: [store.file, `${store.file}-wal`], logger: this.#options.logger, probe: () => probeWrite(store.db) });
    const durationMs = Math.round(performance.now() - startedAt);
    this.#options.logger.info({ file: store.file, packages: this.#graph.size, dependencies: this.#graph.edgeCount, durationMs }, 'store loaded');
    if (store.created) {
      // the first start and a start after the store was deleted look the same from here: say it
      this.#options.logger.warn(
        { file: store.file },
        `created a new, empty store at ${store.file}: expected on a first start; otherwise the store that was there is gone (deleted or moved) and the index starts empty`,
      );
    }
  }

  execute(commands: readonly Command[], done: (replies: Reply[]) => void): void {
    const replies: Reply[] = new Array(commands.length);
    if (this.#store === undefined || this.#health?.lost === true) {
      done(replies.fill('ERROR'));
      return;
    }
    for (let i = 0; i < commands.length; i++) replies[i] = this.#apply(commands[i] as Command);
    // with nothing pending, everything this batch saw is already durable
    const awaited = this.#walSync === undefined ? this.#turn : this.#lastObserved(commands);
    if (awaited === undefined) done(replies);
    else awaited.waiting.push({ done, replies });
  }

  isAvailable(): boolean {
    return this.#store !== undefined && this.#health?.available === true;
  }

  async exportIndex(): Promise<IndexExport> {
    return exportOfGraphState(this.#graph.exportState());
  }

  snapshot(): Promise<StoreSnapshot> {
    return snapshotOfGraphState(this.#graph.exportState());
  }

  async counts(): Promise<IndexCounts> {
    return { packages: this.#graph.size, dependencies: this.#graph.edgeCount };
  }

  /** Commits the turn in flight (its replies go out), then releases the lock. */
  async close(): Promise<void> {
    const store = this.#store;
    if (store === undefined) return;
    // a reply callback may hand over its connection's next batch, which starts another turn
    while (this.#turn !== undefined || this.#walSync?.pending === true) {
      if (this.#turn !== undefined) this.#commit(true);
      else await new Promise<void>((resolve) => this.#walSync?.afterCommit(() => resolve()));
    }
    this.#walSync?.close();
    await this.reader.close();
    this.#store = undefined;
    this.#writeRows = undefined;
    this.#health?.close();
    store.release();
  }

  #apply(command: Command): Reply {
    const graph = this.#graph;
    if (command.kind === 'QUERY') return applyCommand(graph, command);
    const { reply, previous } = applyWrite(graph, command);
    if (previous !== undefined) this.#record(previous, command);
    return reply;
  }

  #record(previous: PreviousState, command: Command): void {
    if (this.#turn === undefined) {
      this.#turn = { seq: ++this.#turns, names: [], changed: new Map(), undo: [], changes: [], waiting: [] };
      this.#commitTimer = setImmediate(() => this.#commit());
    }
    if (!this.#turn.changed.has(previous.id)) this.#turn.changed.set(previous.id, previous);
    this.#turn.undo.push(previous);
    if (this.changes.wanted) this.#turn.changes.push(changeOf(command));
    if (this.#walSync !== undefined) {
      this.#turn.names.push(command.name);
      this.#pendingNames.set(command.name, this.#turn);
    }
  }

  /**
   * The last turn not yet durable whose state these commands observed: for a QUERY, the last that
   * changed its package; for a write (changed or not, its reply depends on other packages), the
   * last of all.
   */
  #lastObserved(commands: readonly Command[]): Turn | undefined {
    const last = this.#turn ?? this.#unsynced;
    if (last === undefined) return undefined;
    let awaited: Turn | undefined;
    for (const command of commands) {
      const turn: Turn | undefined = command.kind === 'QUERY' ? this.#pendingNames.get(command.name) : last;
      if (turn !== undefined && (awaited === undefined || turn.seq > awaited.seq)) awaited = turn;
      if (awaited === last) break;
    }
    return awaited;
  }

  /** The turn is durable or failed: its names no longer wait for it (after a failure, for the last turn still pending). */
  #settleNames(turn: Turn, stillPending: Turn | undefined): void {
    for (const name of turn.names) {
      if (this.#pendingNames.get(name) !== turn) continue;
      if (stillPending === undefined) this.#pendingNames.delete(name);
      else this.#pendingNames.set(name, stillPending);
    }
  }

  /** Writes the turn's changes in one transaction; with fsync 'always', not while the fsyncs are busy unless `now`. */
  #commit(now = false): void {
    const turn = this.#turn;
    if (turn === undefined) return;
    // held back, it takes in the next turns' changes too, and is written when an fsync returns
    if (!now && this.#walSync?.full === true) return;
    // a reply callback may hand us its connection's next batch at once: that starts a new turn
    this.#turn = undefined;
    clearImmediate(this.#commitTimer);
    const startedAt = performance.now();
    const walSync = this.#walSync;
    const rows = this.#rowsToWrite(turn);
    let count: number | undefined;
    try {
      if (this.#writeRows === undefined) throw new Error('the store is closed');
      if (this.#health?.storeInPlace() === false) throw new Error('the store file is no longer at its path');
      // a turn held back while an fsync failed: nothing may be committed any more
      if (this.#health?.lost === true) throw new Error('the store stopped taking commits');
      // a turn that left every row as it was (a package removed and indexed again as it was) has
      // nothing to commit; with fsync 'always' it still commits (the commit counter alone), so that
      // its replies wait in line behind the fsyncs of the turns before it
      if (rows.length > 0 || walSync !== undefined) count = this.#writeRows(rows);
    } catch (error) {
      this.#fail(turn, rows.length, error);
      return;
    }
    if (count !== undefined) this.#options.metrics.commitBatchSize.observe(rows.length);
    if (count === undefined || walSync === undefined) {
      this.#release(turn, count, startedAt);
      return;
    }
    this.#unsynced = turn;
    walSync.afterCommit((error) => {
      if (this.#unsynced === turn) this.#unsynced = undefined;
      if (error === undefined) this.#release(turn, count, startedAt);
      else this.#syncFailed(turn, error);
    });
  }

  /** The ids whose row the turn must rewrite: those whose package is not as the row holds it. */
  #rowsToWrite(turn: Turn): number[] {
    const rows: number[] = [];
    for (const [id, before] of turn.changed) {
      if ((this.#graph.nameAt(id) ?? null) !== before.name || !this.#graph.listsIds(id, before.dependencyIds)) rows.push(id);
    }
    return rows;
  }

  /**
   * The turn's commit is as durable as promised (`count`, its number), or it had nothing to commit
   * (undefined): record it, publish its changes, answer its batches.
   */
  #release(turn: Turn, count: number | undefined, startedAt: number): void {
    if (count !== undefined) {
      this.#health?.commitSucceeded();
      this.#store?.acknowledge(count);
      this.#options.metrics.commitDuration.observe((performance.now() - startedAt) / 1000);
    }
    this.#settleNames(turn, undefined);
    this.changes.append(turn.changes);
    for (const { done, replies } of turn.waiting) done(replies);
  }

  /**
   * The commit is in SQLite but its fsync failed, so it may not be on disk: nothing can be undone
   * or trusted any more, and the store stops (sqlite-health.ts) rather than acknowledge anything.
   */
  #syncFailed(turn: Turn, error: Error): void {
    this.#settleNames(turn, undefined);
    this.#options.metrics.commitFailures.inc();
    this.#health?.syncFailed(error);
    for (const { done, replies } of turn.waiting) done(replies.fill('ERROR'));
  }

  /** The transaction rolled back: undo the turn on the graph too, and answer ERROR for all of it. */
  #fail(turn: Turn, rows: number, cause: unknown): void {
    for (let i = turn.undo.length - 1; i >= 0; i--) {
      const { id, name, dependencyIds } = turn.undo[i] as PreviousState;
      this.#graph.put(id, name, dependencyIds);
    }
    // a name may also have been changed by a turn still waiting for its fsync: wait for the last one
    this.#settleNames(turn, this.#unsynced);
    this.#options.metrics.commitFailures.inc();
    const err = new StoreCommitError(`the commit of ${rows} changed packages failed`, { cause });
    this.#health?.commitFailed(err, { changed: rows, batches: turn.waiting.length });
    for (const { done, replies } of turn.waiting) done(replies.fill('ERROR'));
  }

  #prepare({ db, transaction }: StoreFile): void {
    const upsert: Statement<[number, string, Buffer]> = db.prepare(
      'INSERT INTO packages (id, name, dependencies) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, dependencies = excluded.dependencies',
    );
    const remove: Statement<[number]> = db.prepare('DELETE FROM packages WHERE id = ?');
    const graph = this.#graph;
    this.#writeRows = transaction((rows: readonly number[]) => {
      for (const id of rows) {
        const name = graph.nameAt(id);
        if (name === undefined) remove.run(id);
        else upsert.run(id, name, encodeDependencyIds(graph.dependencyIdsAt(id) ?? []));
      }
    });
  }
}

/** Rewrites the schema version in place: one page to commit, so it needs what any commit needs. */
function probeWrite(db: Database): void {
  const version = Number(db.pragma('user_version', { simple: true }));
  try {
    db.exec(`BEGIN IMMEDIATE; PRAGMA user_version = ${version}; COMMIT;`);
  } catch (error) {
    // SQLite may or may not have rolled back by itself after a failed COMMIT
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
