/**
 * Turns one line (without its line feed) into a Command or a ProtocolError. Never throws on input:
 * a malformed line is a value the connection answers with ERROR.
 */
import { MAX_NAME_LENGTH, type ParsedLine, type ProtocolError, type ProtocolErrorReason } from './types.js';

/** [P-NAME-1] 1 to 255 characters from A-Z a-z 0-9 . _ + @ / : ~ - */
const VALID_NAME = /^[A-Za-z0-9._+@/:~-]+$/;

function frozenError(reason: ProtocolErrorReason): ProtocolError {
  return Object.freeze({ kind: 'error', reason });
}

const ERRORS: { readonly [R in ProtocolErrorReason]: ProtocolError } = Object.freeze({
  'field-count': frozenError('field-count'),
  'unknown-command': frozenError('unknown-command'),
  'invalid-name': frozenError('invalid-name'),
  'invalid-dependency': frozenError('invalid-dependency'),
  'unexpected-dependencies': frozenError('unexpected-dependencies'),
  'self-dependency': frozenError('self-dependency'),
  'line-too-long': frozenError('line-too-long'),
});

/** The shared, frozen error value for a reason, so that rejecting a line allocates nothing. */
export function protocolError(reason: ProtocolErrorReason): ProtocolError {
  return ERRORS[reason];
}

export function isValidPackageName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && VALID_NAME.test(name);
}

/** Parses a line; a trailing `\r` must already be stripped by the caller ([P-LINE-2]). */
export function parseLine(line: string): ParsedLine {
  const first = line.indexOf('|');
  const second = first < 0 ? -1 : line.indexOf('|', first + 1);
  // [P-LINE-3] exactly three fields: two separators, no third
  if (second < 0 || line.indexOf('|', second + 1) >= 0) return ERRORS['field-count'];
  const command = line.slice(0, first);
  const name = line.slice(first + 1, second);
  const depsField = line.slice(second + 1);
  if (command !== 'INDEX' && command !== 'REMOVE' && command !== 'QUERY') return ERRORS['unknown-command'];
  if (!isValidPackageName(name)) return ERRORS['invalid-name'];
  if (command !== 'INDEX') {
    // [P-REMOVE-1] [P-QUERY-1] no dependencies on REMOVE or QUERY
    if (depsField.length > 0) return ERRORS['unexpected-dependencies'];
    return { kind: command, name };
  }
  const deps = parseDependencies(depsField);
  if (deps === undefined) return ERRORS['invalid-dependency'];
  if (deps.includes(name)) return ERRORS['self-dependency'];
  return { kind: 'INDEX', name, deps };
}

/** [P-DEPS-1] empty, or comma-separated valid names with no empty item; repeats count once. */
function parseDependencies(field: string): string[] | undefined {
  if (field.length === 0) return [];
  const items = field.split(',');
  for (const item of items) {
    if (!isValidPackageName(item)) return undefined;
  }
  return items.length === 1 ? items : [...new Set(items)];
}
