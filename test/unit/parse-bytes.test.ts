/**
 * The server's byte parser against the string parser, its oracle: both get the same random and
 * hostile lines, placed at random offsets inside bigger buffers (so bytes just past the line, a
 * `|` or a `,` among them, must not count), and must give the same command or the same reason.
 * fast-check prints the seed of a failing run; replay it with PARSE_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseLineBytes } from '../../src/protocol/parse-bytes.js';
import { parseLine } from '../../src/protocol/parse.js';

const seed = process.env.PARSE_SEED === undefined ? undefined : Number(process.env.PARSE_SEED);
const RUNS = 3000;

const longName = (length: number): string => 'n'.repeat(length);

/** Pieces that make lines close to valid, so that most rules get reached, and broken in every way. */
const piece = fc.constantFrom(
  'INDEX',
  'REMOVE',
  'QUERY',
  'index',
  'INDEXX',
  'QUER',
  '|',
  '|',
  '|',
  ',',
  ',',
  ',,',
  'a',
  'b',
  'A',
  'gmp',
  'pkg-config',
  'x.y_z+1@2/3:4~5',
  ' ',
  '=',
  '\r',
  '\n',
  '\t',
  '\x00',
  '\x7f',
  '\x80',
  '\xff',
  '\xe2\x98\x83',
  longName(254),
  longName(255),
  longName(256),
);

/** Two pairs of names with equal 32-bit FNV-1a hashes, as the parser computes them: repeats are found by hash, then confirmed. */
const COLLIDING = ['+L05grY', 'xADenk_', 'wlgXMfq', 'oluf2N6'];
/** Enough distinct names for lists on both sides of the parser's linear repeat search (16). */
const MANY = Array.from({ length: 18 }, (_, i) => `d${i}`);

const line = fc.oneof(
  fc.array(piece, { maxLength: 12 }).map((pieces) => Buffer.from(pieces.join(''), 'latin1')),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc
    .tuple(
      fc.constantFrom('INDEX', 'REMOVE', 'QUERY'),
      fc.constantFrom('a', 'b', 'c', 'dd'),
      fc.array(fc.constantFrom('a', 'b', 'c', 'dd', '', 'B', '!', ...COLLIDING, ...MANY), { maxLength: 40 }),
    )
    .map(([command, name, deps]) => Buffer.from(`${command}|${name}|${deps.join(',')}`, 'latin1')),
  // distinct names, 0 to 22 of them, and sometimes one of them again at any place
  fc.tuple(fc.shuffledSubarray([...COLLIDING, ...MANY]), fc.nat(50), fc.nat(50), fc.boolean()).map(([deps, from, to, repeat]) => {
    const list = [...deps];
    if (repeat && list.length > 0) list.splice(to % (list.length + 1), 0, list[from % list.length] as string);
    return Buffer.from(`INDEX|x|${list.join(',')}`, 'latin1');
  }),
);

const surroundings = fc.constantFrom('', '|', ',', 'a', 'QUERY|a|', '\r\n|x,y|');

function agree(text: Buffer, before: string, after: string): void {
  const buffer = Buffer.concat([Buffer.from(before, 'latin1'), text, Buffer.from(after, 'latin1')]);
  const start = before.length;
  const end = start + text.length;
  assert.deepEqual(parseLineBytes(buffer, start, end), parseLine(buffer.toString('latin1', start, end)), JSON.stringify(buffer.toString('latin1', start, end)));
}

describe('parseLineBytes agrees with parseLine', () => {
  test('on random and hostile lines at any offset in a chunk', () => {
    fc.assert(fc.property(line, surroundings, surroundings, agree), { numRuns: RUNS, seed });
  });

  test('on the edge cases of every rule', () => {
    const cases = [
      '',
      '|',
      '||',
      '|||',
      'INDEX||',
      'INDEX|a|',
      'INDEX|a|b,',
      'INDEX|a|,b',
      'INDEX|a|b,,c',
      'INDEX|a|a',
      'INDEX|a|b,a',
      'INDEX|a|b,b,c,b',
      'INDEX|a|B,b',
      `INDEX|${longName(255)}|`,
      `INDEX|${longName(256)}|`,
      `INDEX|a|${longName(256)}`,
      'QUERY|a|b',
      'REMOVE|a|',
      'REMOVE|a|,',
      'QUERY|a\r|',
      'index|a|',
      'INDEX|a|b|',
      'INDEX|a b|',
      `INDEX|a|${Array.from({ length: 40 }, (_, i) => `d${i % 25}`).join(',')}`,
    ];
    for (const text of cases) agree(Buffer.from(text, 'latin1'), 'INDEX|x|', '|,y');
  });
});
