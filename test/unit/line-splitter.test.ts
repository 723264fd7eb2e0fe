/**
 * Framing: every case must give the same lines whatever the segmentation of its bytes — whole,
 * byte by byte, split at every boundary, and coalesced with its neighbours — because TCP keeps no
 * message boundaries. Over-long lines are answered once and never buffered.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LineSplitter, type LineSink } from '../../src/protocol/line-splitter.js';

/** The cap used by these tests: small, so over-long lines stay cheap to build. */
const MAX = 32;

type Event = string | typeof OVERFLOW;
const OVERFLOW = Symbol('overflow');

/** A request line's text, without its terminator. */
function request(command: string, name: string, deps = ''): string {
  return `${command}|${name}|${deps}`;
}

function lf(text: string): string {
  return `${text}\n`;
}

function crlf(text: string): string {
  return `${text}\r\n`;
}

/** Text of exactly `length` characters. */
function filler(length: number, char = 'x'): string {
  return char.repeat(length);
}

function bytes(...parts: string[]): Buffer {
  return Buffer.from(parts.join(''), 'latin1');
}

/** Runs the chunks through a fresh splitter and records what it emitted. */
function feed(chunks: readonly Buffer[], maxLineBytes = MAX): { events: Event[]; splitter: LineSplitter } {
  const events: Event[] = [];
  const sink: LineSink = { line: (bytes, start, end) => events.push(bytes.toString('latin1', start, end)), overflow: () => events.push(OVERFLOW) };
  const splitter = new LineSplitter(maxLineBytes);
  for (const chunk of chunks) splitter.push(chunk, sink);
  return { events, splitter };
}

function byteByByte(buffer: Buffer): Buffer[] {
  return [...buffer].map((byte) => Buffer.from([byte]));
}

/** The buffer cut into two chunks at `at` (either may be empty). */
function splitAt(buffer: Buffer, at: number): Buffer[] {
  return [buffer.subarray(0, at), buffer.subarray(at)];
}

interface FramingCase {
  readonly name: string;
  readonly input: Buffer;
  readonly expected: readonly Event[];
}

const snowman = Buffer.from('☃', 'utf8').toString('latin1');

/** Complete cases: each ends with a line feed, so any two can be concatenated. */
const CASES: readonly FramingCase[] = [
  { name: 'one line ended by \\n', input: bytes(lf(request('INDEX', 'a', 'b,c'))), expected: ['INDEX|a|b,c'] },
  { name: '[P-LINE-2] one line ended by \\r\\n loses its \\r', input: bytes(crlf(request('QUERY', 'a'))), expected: ['QUERY|a|'] },
  {
    name: 'several lines with mixed terminators',
    input: bytes(lf(request('INDEX', 'a')), crlf(request('INDEX', 'b', 'a')), lf(request('REMOVE', 'a'))),
    expected: ['INDEX|a|', 'INDEX|b|a', 'REMOVE|a|'],
  },
  { name: 'an empty line is a line', input: bytes(lf('')), expected: [''] },
  { name: 'an empty line ended by \\r\\n is a line', input: bytes(crlf('')), expected: [''] },
  { name: 'consecutive empty lines are separate lines', input: bytes(lf(''), crlf(''), lf('')), expected: ['', '', ''] },
  { name: '[P-LINE-2] a \\r that is not right before \\n stays in the line', input: bytes(lf('a\rb')), expected: ['a\rb'] },
  { name: '[P-LINE-2] only one \\r before \\n is removed', input: bytes(crlf('a\r')), expected: ['a\r'] },
  { name: 'bytes above 0x7f arrive as latin1 characters', input: bytes(lf(request('QUERY', snowman))), expected: [`QUERY|${snowman}|`] },
  { name: '[P-LINE-4] a line of exactly the cap is accepted', input: bytes(lf(filler(MAX))), expected: [filler(MAX)] },
  { name: '[P-LINE-4] the cap does not count \\r\\n', input: bytes(crlf(filler(MAX))), expected: [filler(MAX)] },
  { name: '[P-LINE-4] a line one byte over the cap overflows', input: bytes(lf(filler(MAX + 1))), expected: [OVERFLOW] },
  { name: '[P-LINE-4] a \\r inside counts towards the cap', input: bytes(crlf(`${filler(MAX, 'y')}\r`)), expected: [OVERFLOW] },
  { name: '[P-LINE-4] a line far over the cap overflows once', input: bytes(crlf(filler(MAX * 5))), expected: [OVERFLOW] },
  {
    name: '[P-LINE-4] lines after an over-long line are framed normally',
    input: bytes(lf(filler(MAX * 3)), lf(request('QUERY', 'a')), lf(filler(MAX + 2)), crlf(request('QUERY', 'b'))),
    expected: [OVERFLOW, 'QUERY|a|', OVERFLOW, 'QUERY|b|'],
  },
];

/** Every case's bytes back to back: the multi-message buffer. */
const ALL = Buffer.concat(CASES.map((c) => c.input));
const ALL_EXPECTED = CASES.flatMap((c) => c.expected);

describe('LineSplitter framing cases', () => {
  for (const { name, input, expected } of CASES) {
    test(`${name}: whole`, () => {
      assert.deepEqual(feed([input]).events, expected);
    });

    test(`${name}: byte by byte`, () => {
      assert.deepEqual(feed(byteByByte(input)).events, expected);
    });

    test(`${name}: split in two at every boundary`, () => {
      for (let at = 0; at <= input.length; at++) {
        assert.deepEqual(feed(splitAt(input, at)).events, expected, `split at ${at}`);
      }
    });

    test(`${name}: coalesced with its neighbours`, () => {
      const before = bytes(lf(request('QUERY', 'before')));
      const after = bytes(crlf(request('QUERY', 'after')));
      const { events } = feed([Buffer.concat([before, input, after])]);
      assert.deepEqual(events, ['QUERY|before|', ...expected, 'QUERY|after|']);
    });
  }
});

describe('LineSplitter on a buffer of many messages', () => {
  test('gives every line in order when the buffer arrives whole', () => {
    assert.deepEqual(feed([ALL]).events, ALL_EXPECTED);
  });

  test('gives every line in order when the buffer arrives byte by byte', () => {
    assert.deepEqual(feed(byteByByte(ALL)).events, ALL_EXPECTED);
  });

  test('gives every line in order when the buffer is split in two at every boundary', () => {
    for (let at = 0; at <= ALL.length; at++) {
      assert.deepEqual(feed(splitAt(ALL, at)).events, ALL_EXPECTED, `split at ${at}`);
    }
  });

  test('gives every line in order when the buffer is split in three at every pair of boundaries', () => {
    const head = Buffer.concat(CASES.slice(0, 6).map((c) => c.input));
    const headExpected = CASES.slice(0, 6).flatMap((c) => c.expected);
    for (let first = 0; first <= head.length; first++) {
      for (let second = first; second <= head.length; second++) {
        const chunks = [head.subarray(0, first), head.subarray(first, second), head.subarray(second)];
        assert.deepEqual(feed(chunks).events, headExpected, `split at ${first} and ${second}`);
      }
    }
  });

  test('gives every line in order when the buffer arrives in chunks of every size', () => {
    for (let size = 1; size <= ALL.length; size++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < ALL.length; at += size) chunks.push(ALL.subarray(at, at + size));
      assert.deepEqual(feed(chunks).events, ALL_EXPECTED, `chunks of ${size}`);
    }
  });
});

describe('LineSplitter with unfinished and over-long lines', () => {
  test('holds an unfinished line until its line feed arrives', () => {
    const events: Event[] = [];
    const splitter = new LineSplitter(MAX);
    const sink: LineSink = { line: (bytes, start, end) => events.push(bytes.toString('latin1', start, end)), overflow: () => events.push(OVERFLOW) };
    splitter.push(bytes(request('QUERY', 'abc')), sink);
    assert.deepEqual(events, []);
    assert.equal(splitter.bufferedBytes, 'QUERY|abc|'.length);
    splitter.push(bytes('\n'), sink);
    assert.deepEqual(events, ['QUERY|abc|']);
    assert.equal(splitter.bufferedBytes, 0);
  });

  test('holds a trailing \\r of a line at the cap, in case \\n follows', () => {
    const { events, splitter } = feed([bytes(filler(MAX), '\r')]);
    assert.deepEqual(events, []);
    assert.equal(splitter.bufferedBytes, MAX + 1);
  });

  test('[P-LINE-4] reports overflow as soon as the cap is passed, before the line feed', () => {
    const { events, splitter } = feed([bytes(filler(MAX + 2))]);
    assert.deepEqual(events, [OVERFLOW]);
    assert.equal(splitter.bufferedBytes, 0);
  });

  test('[P-LINE-4] reports an over-long line once when it arrives in many chunks', () => {
    const chunks = Array.from({ length: 40 }, () => bytes(filler(MAX / 2)));
    const { events } = feed([...chunks, bytes(lf(''), lf(request('QUERY', 'next')))]);
    assert.deepEqual(events, [OVERFLOW, 'QUERY|next|']);
  });

  test('[P-LINE-4] reports an over-long line once when it fills one chunk', () => {
    const { events } = feed([bytes(filler(MAX * 100), lf(''), lf(request('QUERY', 'next')))]);
    assert.deepEqual(events, [OVERFLOW, 'QUERY|next|']);
  });

  test('[P-LINE-4] reports each of several over-long lines once', () => {
    const longLine = lf(filler(MAX * 3));
    const input = bytes(longLine, longLine, lf(request('QUERY', 'a')), longLine);
    for (const chunks of [[input], byteByByte(input)]) {
      assert.deepEqual(feed(chunks).events, [OVERFLOW, OVERFLOW, 'QUERY|a|', OVERFLOW]);
    }
  });

  test('[P-LINE-4] recovers when the line feed ending an over-long line shares a chunk with the next line', () => {
    const { events } = feed([bytes(filler(MAX * 2)), bytes(filler(MAX * 2)), bytes(lf('tail'), crlf(request('INDEX', 'a')))]);
    assert.deepEqual(events, [OVERFLOW, 'INDEX|a|']);
  });

  test('[P-LINE-4] keeps the buffered bytes bounded while discarding an endless line', () => {
    const events: Event[] = [];
    const sink: LineSink = { line: (bytes, start, end) => events.push(bytes.toString('latin1', start, end)), overflow: () => events.push(OVERFLOW) };
    const splitter = new LineSplitter(MAX);
    const chunk = bytes(filler(7));
    let most = 0;
    for (let i = 0; i < 10_000; i++) {
      splitter.push(chunk, sink);
      most = Math.max(most, splitter.bufferedBytes);
    }
    assert.ok(most <= MAX + 1, `buffered up to ${most} bytes`);
    assert.equal(splitter.bufferedBytes, 0);
    assert.deepEqual(events, [OVERFLOW]);
    splitter.push(bytes(lf(''), lf(request('QUERY', 'a'))), sink);
    assert.deepEqual(events, [OVERFLOW, 'QUERY|a|']);
  });

  test('[P-LINE-4] uses the default 64 KiB cap like any other', () => {
    const cap = 64 * 1024;
    const accepted = feed([bytes(lf(filler(cap)))], cap).events;
    assert.equal(accepted.length, 1);
    assert.equal((accepted[0] as string).length, cap);
    assert.deepEqual(feed([bytes(lf(filler(cap + 1)))], cap).events, [OVERFLOW]);
  });
});
