/**
 * The server's parser: the rules of parse.ts (the readable oracle, which a property test holds this
 * to, reason for reason), run on the bytes of the request line where they lie in the socket's chunk.
 * One pass over the bytes checks every name byte against a table and notes where the separators
 * are; strings are made only for what the command keeps or looks up (its name and dependencies).
 * No decoding of the whole line, no slices of it, no regular expression, no `split`, and a `Set`
 * only for long dependency lists.
 *
 * Names repeat: clients ask about the same packages again and again. So each name's bytes are
 * hashed while they are checked, and a small table of recent names hands back the string made for
 * the same bytes before, instead of a new one for the collector to chase (most QUERYs then
 * allocate no string at all). A hit is confirmed byte for byte, so a collision costs one decode.
 */
import { protocolError } from './parse.js';
import { MAX_NAME_LENGTH, type ParsedLine } from './types.js';

const BYTE = {
  PIPE: 0x7c, // |
  COMMA: 0x2c, // ,
} as const;

/** [P-NAME-1] 1 for each byte a name may hold: A-Z a-z 0-9 . _ + @ / : ~ - */
const NAME_BYTE = new Uint8Array(256);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+@/:~-') NAME_BYTE[char.charCodeAt(0)] = 1;

/** Up to this many dependencies, repeats are found by comparing each with those before it. */
const MAX_LINEAR_DEDUP = 16;

const NO_DEPS: readonly string[] = Object.freeze([]);

/**
 * Parses `bytes[start, end)`, one line without its `\n` and a `\r` before it ([P-LINE-2]); the
 * same answer as `parseLine(bytes.toString('latin1', start, end))`.
 */
export function parseLineBytes(bytes: Buffer, start: number, end: number): ParsedLine {
  // [P-LINE-3] exactly three fields: two separators, no third. A plain loop: lines are short, and
  // a native indexOf per separator costs more in call overhead than scanning a few dozen bytes
  let first = -1;
  let second = -1;
  for (let i = start; i < end; i++) {
    if (bytes[i] !== BYTE.PIPE) continue;
    if (first < 0) first = i;
    else if (second < 0) second = i;
    else return protocolError('field-count');
  }
  if (second < 0) return protocolError('field-count');
  const kind = commandAt(bytes, start, first);
  if (kind === undefined) return protocolError('unknown-command');
  const name = nameAt(bytes, first + 1, second);
  if (name === undefined) return protocolError('invalid-name');
  if (kind !== 'INDEX') {
    // [P-DEPS-2] no dependencies on REMOVE or QUERY
    if (end > second + 1) return protocolError('unexpected-dependencies');
    return { kind, name };
  }
  const deps = dependenciesAt(bytes, second + 1, end);
  if (deps === undefined) return protocolError('invalid-dependency');
  // [P-DEPS-3]
  if (deps.includes(name)) return protocolError('self-dependency');
  return { kind: 'INDEX', name, deps };
}

/** [P-COMMAND-1] exactly INDEX, REMOVE or QUERY, case-sensitive, compared byte by byte. */
function commandAt(bytes: Uint8Array, start: number, end: number): 'INDEX' | 'REMOVE' | 'QUERY' | undefined {
  const length = end - start;
  if (length === 5) {
    if (bytes[start] === 0x49 && matches(bytes, start, 'INDEX')) return 'INDEX';
    if (bytes[start] === 0x51 && matches(bytes, start, 'QUERY')) return 'QUERY';
  } else if (length === 6 && matches(bytes, start, 'REMOVE')) {
    return 'REMOVE';
  }
  return undefined;
}

function matches(bytes: Uint8Array, start: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (bytes[start + i] !== word.charCodeAt(i)) return false;
  return true;
}

/** Recent names by the hash of their bytes; a power of two. */
const RECENT_NAMES = 4096;
const recentNames: Array<string | undefined> = new Array(RECENT_NAMES).fill(undefined);

/**
 * [P-NAME-1] 1 to 255 bytes, each one the table allows (so never a byte above 0x7f): the name as
 * a string, or undefined when the bytes are not a name.
 */
function nameAt(bytes: Buffer, start: number, end: number): string | undefined {
  if (end <= start || end - start > MAX_NAME_LENGTH) return undefined;
  // FNV-1a, folded into the check of each byte
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    const byte = bytes[i] as number;
    if (NAME_BYTE[byte] === 0) return undefined;
    hash = Math.imul(hash ^ byte, 0x01000193);
  }
  const slot = hash & (RECENT_NAMES - 1);
  const recent = recentNames[slot];
  if (recent !== undefined && sameAscii(recent, bytes, start, end)) return recent;
  const name = latin1(bytes, start, end);
  recentNames[slot] = name;
  return name;
}

function sameAscii(text: string, bytes: Uint8Array, start: number, end: number): boolean {
  if (text.length !== end - start) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}

/** [P-DEPS-1] empty, or comma-separated valid names with no empty item; repeats count once. */
function dependenciesAt(bytes: Buffer, start: number, end: number): readonly string[] | undefined {
  if (end === start) return NO_DEPS;
  const deps: string[] = [];
  let itemStart = start;
  for (let i = start; i <= end; i++) {
    if (i < end && bytes[i] !== BYTE.COMMA) continue;
    const dep = nameAt(bytes, itemStart, i);
    if (dep === undefined) return undefined;
    deps.push(dep);
    itemStart = i + 1;
  }
  return withoutRepeats(deps);
}

/** The list with each name's first occurrence only, in order. */
function withoutRepeats(deps: string[]): string[] {
  if (deps.length > MAX_LINEAR_DEDUP) return deps.length === new Set(deps).size ? deps : [...new Set(deps)];
  for (let i = 1; i < deps.length; i++) {
    for (let j = 0; j < i; j++) {
      if (deps[j] === deps[i]) return [...new Set(deps)];
    }
  }
  return deps;
}

/**
 * The bytes as a string of their own: Buffer's latin1 decoder makes a flat string (never a view
 * of a longer one), so the graph can keep it without holding the chunk it came from.
 */
function latin1(bytes: Buffer, start: number, end: number): string {
  return bytes.toString('latin1', start, end);
}
