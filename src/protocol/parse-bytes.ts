/**
 * The server's parser: the rules of parse.ts (the readable oracle, which a property test holds this
 * to, reason for reason), run on the bytes of the request line where they lie in the socket's chunk.
 * A line that breaks no rule is read in one pass, each name byte checked against a table and
 * hashed, each name ending at the separator that must follow it; a line that breaks one is read
 * again, rule by rule, for the oracle's reason. Strings are made only for what the command keeps or
 * looks up (its name and dependencies). No decoding of the whole line, no slices of it, no regular
 * expression, no `split`, and a `Set` only for long or repeating dependency lists.
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

/** Up to this many dependencies, repeats are found by comparing each one's hash with those before it. */
const MAX_LINEAR_DEDUP = 16;

const NO_DEPS: readonly string[] = Object.freeze([]);

/**
 * Parses `bytes[start, end)`, one line without its `\n` and a `\r` before it ([P-LINE-2]); the
 * same answer as `parseLine(bytes.toString('latin1', start, end))`.
 */
export function parseLineBytes(bytes: Buffer, start: number, end: number): ParsedLine {
  return wellFormedLine(bytes, start, end) ?? checkedLine(bytes, start, end);
}

/**
 * The command of a line that breaks no rule, reading each byte once: the command word ends at a
 * separator, each name at the first byte no name may hold, which must be the next separator (a
 * comma between dependencies, the pipe after the package name, or the end of the line). Undefined
 * for any other line, which checkedLine then reads rule by rule for the reason it breaks.
 */
function wellFormedLine(bytes: Buffer, start: number, end: number): ParsedLine | undefined {
  let kind: 'INDEX' | 'REMOVE' | 'QUERY';
  let nameStart = start + 6;
  if (nameStart < end && bytes[start + 5] === BYTE.PIPE) {
    const word = commandAt(bytes, start, start + 5);
    if (word === undefined) return undefined;
    kind = word;
  } else if (nameStart + 1 < end && bytes[nameStart] === BYTE.PIPE && matches(bytes, start, 'REMOVE')) {
    kind = 'REMOVE';
    nameStart += 1;
  } else {
    return undefined;
  }
  const i = scanName(bytes, nameStart, end);
  if (i === end || bytes[i] !== BYTE.PIPE) return undefined;
  const name = recall(scannedHash, bytes, nameStart, i);
  if (name === undefined) return undefined;
  if (kind !== 'INDEX') return i + 1 === end ? { kind, name } : undefined;
  const deps = dependenciesAt(bytes, i + 1, end);
  if (deps === undefined || deps.includes(name)) return undefined;
  return { kind, name, deps };
}

/** Every rule in the oracle's order, so that a line that breaks several gets the oracle's reason. */
function checkedLine(bytes: Buffer, start: number, end: number): ParsedLine {
  // [P-LINE-3] exactly three fields: two separators, no third
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

/**
 * Recent names by the hash of their bytes; a power of two. 16,384 slots keep a few thousand names
 * hot with few collisions: at 4,096 slots and the 3,370 Homebrew packages, about a third of the
 * lookups evicted each other. It holds 128 KiB of references, mostly to strings the graph holds
 * anyway; names that are not indexed (QUERYs of unknown packages) can keep up to 4 MiB alive.
 */
const RECENT_NAMES = 16384;
const recentNames: Array<string | undefined> = new Array(RECENT_NAMES).fill(undefined);

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * [P-NAME-1] 1 to 255 bytes, each one the table allows (so never a byte above 0x7f): the name as
 * a string, or undefined when the bytes are not a name.
 */
function nameAt(bytes: Buffer, start: number, end: number): string | undefined {
  return scanName(bytes, start, end) === end ? recall(scannedHash, bytes, start, end) : undefined;
}

/** The hash of the bytes scanName read last (a second result, so that no object is made per name). */
let scannedHash = 0;

/**
 * Reads name bytes from `start` up to the first byte no name holds, or `end`, and returns where it
 * stopped; their FNV-1a hash, folded into the check of each byte, is left in scannedHash.
 */
function scanName(bytes: Buffer, start: number, end: number): number {
  let hash = FNV_OFFSET;
  let i = start;
  for (; i < end; i++) {
    const byte = bytes[i] as number;
    if (NAME_BYTE[byte] === 0) break;
    hash = Math.imul(hash ^ byte, FNV_PRIME);
  }
  scannedHash = hash;
  return i;
}

/** The string for the checked name bytes `[start, end)` whose hash is given: a recent one, or a new one. */
function recall(hash: number, bytes: Buffer, start: number, end: number): string | undefined {
  if (end <= start || end - start > MAX_NAME_LENGTH) return undefined;
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

/** The hashes of the dependencies read so far, for finding repeats in short lists. */
const depHashes = new Int32Array(MAX_LINEAR_DEDUP);

/**
 * [P-DEPS-1] empty, or comma-separated valid names with no empty item; repeats count once. One
 * pass per item checks and hashes its bytes and stops at the first byte no name holds, which must
 * be the comma (or the end of the line).
 */
function dependenciesAt(bytes: Buffer, start: number, end: number): readonly string[] | undefined {
  if (end === start) return NO_DEPS;
  const deps: string[] = [];
  let repeats = false;
  for (let at = start; ; ) {
    const i = scanName(bytes, at, end);
    const hash = scannedHash;
    if (i < end && bytes[i] !== BYTE.COMMA) return undefined;
    const dep = recall(hash, bytes, at, i);
    if (dep === undefined) return undefined;
    // a name's bytes always hash alike, so only equal hashes need the names compared
    const count = deps.length;
    if (count < MAX_LINEAR_DEDUP) {
      for (let k = 0; k < count && !repeats; k++) repeats = depHashes[k] === hash && deps[k] === dep;
      depHashes[count] = hash;
    }
    deps.push(dep);
    if (i === end) break;
    at = i + 1;
  }
  if (deps.length > MAX_LINEAR_DEDUP) {
    const unique = new Set(deps);
    return unique.size === deps.length ? deps : [...unique];
  }
  return repeats ? [...new Set(deps)] : deps;
}

/**
 * The bytes as a string of their own: Buffer's latin1 decoder makes a flat string (never a view
 * of a longer one), so the graph can keep it without holding the chunk it came from.
 */
function latin1(bytes: Buffer, start: number, end: number): string {
  return bytes.toString('latin1', start, end);
}
