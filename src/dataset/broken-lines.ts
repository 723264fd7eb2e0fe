/**
 * Request lines that a conforming server must answer ERROR, in the spirit of the original
 * challenge harness's "broken messages", for check to mix into its traffic. Each is built around
 * a real package name so that it looks like a near miss, and none can change the index.
 */
import type { Random } from './random.js';

export type BrokenLineKind =
  | 'unknown-command'
  | 'lowercase-command'
  | 'bad-name-char'
  | 'bad-dependency-char'
  | 'too-few-fields'
  | 'too-many-fields'
  | 'empty-name'
  | 'empty-dependency-item'
  | 'dependencies-on-query'
  | 'dependencies-on-remove'
  | 'self-dependency'
  | 'empty-line';

const UNKNOWN_COMMANDS = ['BLINDEX', 'REMOVES', 'QUER', 'LIZARD', 'I', 'INDEXX', ''];
/** Characters outside [A-Za-z0-9._+@/:~-]; the snowman goes out as three UTF-8 bytes. */
const BAD_CHARS = [' ', '=', '☃', '\t', '#', '*', '"', ';'];

const BUILDERS: { readonly [K in BrokenLineKind]: (name: string, other: string, random: Random) => string } = {
  'unknown-command': (name, _other, random) => `${random.pick(UNKNOWN_COMMANDS)}|${name}|`,
  'lowercase-command': (name, _other, random) => `${random.pick(['index', 'remove', 'query', 'Index'])}|${name}|`,
  'bad-name-char': (name, _other, random) => `${random.pick(['INDEX', 'REMOVE', 'QUERY'])}|${name}${random.pick(BAD_CHARS)}x|`,
  'bad-dependency-char': (name, other, random) => `INDEX|${name}|${other}${random.pick(BAD_CHARS)}x`,
  'too-few-fields': (name, _other, random) => `${random.pick(['INDEX', 'REMOVE', 'QUERY'])}|${name}`,
  'too-many-fields': (name, other) => `INDEX|${name}|${other}|`,
  'empty-name': (_name, other, random) => `${random.pick(['INDEX', 'REMOVE', 'QUERY'])}||${random.chance(0.5) ? other : ''}`,
  'empty-dependency-item': (name, other, random) => `INDEX|${name}|${random.pick([`${other},`, `,${other}`, `${other},,${other}`, ','])}`,
  'dependencies-on-query': (name, other) => `QUERY|${name}|${other}`,
  'dependencies-on-remove': (name, other) => `REMOVE|${name}|${other}`,
  'self-dependency': (name, other, random) => `INDEX|${name}|${random.chance(0.5) ? name : `${other},${name}`}`,
  'empty-line': () => '',
};

export const BROKEN_LINE_KINDS = Object.keys(BUILDERS) as BrokenLineKind[];

export interface BrokenLine {
  readonly kind: BrokenLineKind;
  /** The request, with its line feed. */
  readonly line: string;
}

/**
 * A broken request about `name`. `other` must be a valid name different from `name`, used where
 * a second name makes the line look plausible.
 */
export function makeBrokenLine(name: string, other: string, random: Random): BrokenLine {
  const kind = random.pick(BROKEN_LINE_KINDS);
  return { kind, line: `${BUILDERS[kind](name, other, random)}\n` };
}
