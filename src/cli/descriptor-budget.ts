/**
 * Every connection the limits allow holds a file descriptor, and so do the store's files. When
 * they add up to more than the process may open (ulimit -n), the limits cannot all be met: past
 * the descriptor limit, new connections on either port are closed unanswered. Said once, at
 * startup, as one warning line. The limit is read from /proc/self/limits (Linux); where it cannot
 * be read nothing is said.
 */
import fs from 'node:fs';
import type { Config } from '../config.js';

/** Descriptors Node.js and the server hold besides connections and store files (about 25 measured: stdio, epoll, event fds, signal pipes, libuv's reserve) plus room for a log transport and DNS. */
export const DESCRIPTOR_MARGIN = 64;
/** The SQLite store: the database and its WAL, plus one for the pid file and SQLite's short-lived files. */
const SQLITE_DESCRIPTORS = 3;

export interface DescriptorBudget {
  readonly connectionLimit: number;
  readonly waitingLimit: number;
  /** 0 with the admin port off. */
  readonly adminConnectionLimit: number;
  readonly store: number;
  readonly margin: number;
  readonly total: number;
}

export function descriptorBudget(config: Config): DescriptorBudget {
  const store = config.inMemory ? 0 : config.databaseUrl !== undefined ? config.poolSize : SQLITE_DESCRIPTORS;
  const adminConnectionLimit = config.adminPort === null ? 0 : config.adminConnectionLimit;
  const parts = { connectionLimit: config.connectionLimit, waitingLimit: config.waitingLimit, adminConnectionLimit, store, margin: DESCRIPTOR_MARGIN };
  return { ...parts, total: parts.connectionLimit + parts.waitingLimit + adminConnectionLimit + store + DESCRIPTOR_MARGIN };
}

/** The soft limit on open files from /proc/self/limits; undefined when unlimited or unreadable. */
export function readOpenFilesLimit(limitsFile = '/proc/self/limits'): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(limitsFile, 'utf8');
  } catch {
    return undefined;
  }
  // "Max open files            20000                20000                files": soft, then hard
  const match = /^Max open files\s+(\d+)\s/m.exec(text);
  return match === null ? undefined : Number(match[1]);
}
