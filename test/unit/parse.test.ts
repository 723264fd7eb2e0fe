/**
 * Every rule of docs/protocol.md that a single line can break, asserted through the `reason` the
 * parser returns, plus the commands it builds from valid lines.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isValidPackageName, parseLine, protocolError } from '../../src/protocol/parse.js';
import { encodeCommand } from '../../src/protocol/encode.js';
import type { ParsedLine, ProtocolErrorReason } from '../../src/protocol/types.js';

function line(command: string, name: string, deps = ''): string {
  return `${command}|${name}|${deps}`;
}

/** What the server sees for bytes sent as UTF-8: the line is decoded as latin1. */
function asWireText(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

function reasonOf(parsed: ParsedLine): ProtocolErrorReason | undefined {
  return parsed.kind === 'error' ? parsed.reason : undefined;
}

function assertError(text: string, reason: ProtocolErrorReason): void {
  assert.equal(reasonOf(parseLine(text)), reason, JSON.stringify(text));
}

const PUNCTUATION = ['.', '_', '+', '@', '/', ':', '~', '-'];

describe('parseLine: commands', () => {
  test('[P-INDEX-1] parses INDEX with no dependencies', () => {
    assert.deepEqual(parseLine(line('INDEX', 'gmp')), { kind: 'INDEX', name: 'gmp', deps: [] });
  });

  test('[P-INDEX-1] parses INDEX with dependencies in their order', () => {
    assert.deepEqual(parseLine(line('INDEX', 'cloog', 'gmp,isl,pkg-config')), {
      kind: 'INDEX',
      name: 'cloog',
      deps: ['gmp', 'isl', 'pkg-config'],
    });
  });

  test('[P-REMOVE-1] parses REMOVE', () => {
    assert.deepEqual(parseLine(line('REMOVE', 'gmp')), { kind: 'REMOVE', name: 'gmp' });
  });

  test('[P-QUERY-1] parses QUERY', () => {
    assert.deepEqual(parseLine(line('QUERY', 'gmp')), { kind: 'QUERY', name: 'gmp' });
  });

  test('[P-COMMAND-1] rejects any other command, case-sensitively', () => {
    for (const command of ['index', 'Index', 'remove', 'query', 'BLINDEX', 'INDEXX', ' INDEX', 'INDEX ', '']) {
      assertError(line(command, 'a'), 'unknown-command');
    }
  });

  test('encodeCommand writes lines that parse back to the same command', () => {
    for (const text of [line('INDEX', 'a', 'b,c'), line('INDEX', 'a'), line('REMOVE', 'a'), line('QUERY', 'a')]) {
      const parsed = parseLine(text);
      assert.notEqual(parsed.kind, 'error');
      if (parsed.kind === 'error') continue;
      assert.equal(encodeCommand(parsed), `${text}\n`);
    }
  });
});

describe('parseLine: fields', () => {
  test('[P-LINE-3] rejects a line with two fields', () => {
    assertError('INDEX|a', 'field-count');
  });

  test('[P-LINE-3] rejects a line with four fields', () => {
    assertError('INDEX|a|b|c', 'field-count');
    assertError('QUERY|a||', 'field-count');
  });

  test('[P-LINE-3] rejects an empty line and a line with no separator', () => {
    assertError('', 'field-count');
    assertError('INDEX', 'field-count');
    assertError('|', 'field-count');
  });

  test('[P-LINE-2] rejects a \\r left in the line, since the splitter strips only the one before \\n', () => {
    assertError('QUERY|a|\r', 'unexpected-dependencies');
    assertError('INDEX|a|\r', 'invalid-dependency');
  });
});

describe('parseLine: package names', () => {
  test('[P-NAME-1] accepts letters, digits and each allowed punctuation character', () => {
    const names = ['a', 'Z', '0', 'gcc-12', 'AbC019', ...PUNCTUATION.map((p) => `x${p}y`), ...PUNCTUATION, PUNCTUATION.join('')];
    for (const name of names) {
      assert.deepEqual(parseLine(line('QUERY', name)), { kind: 'QUERY', name }, name);
      assert.ok(isValidPackageName(name), name);
    }
  });

  test('[P-NAME-1] accepts a name of 255 characters and rejects one of 256', () => {
    const longest = 'n'.repeat(255);
    assert.deepEqual(parseLine(line('QUERY', longest)), { kind: 'QUERY', name: longest });
    assertError(line('QUERY', `${longest}n`), 'invalid-name');
    assertError(line('INDEX', 'a', `${longest}n`), 'invalid-dependency');
  });

  test('[P-NAME-1] rejects an empty name', () => {
    for (const command of ['INDEX', 'REMOVE', 'QUERY']) assertError(line(command, ''), 'invalid-name');
  });

  test('[P-NAME-1] rejects a space, =, and other punctuation', () => {
    for (const bad of [' ', '=', ',', '!', '#', '$', '%', '&', '*', '(', '"', "'", ';', '<', '?', '[', '\\', '^', '`', '{']) {
      assertError(line('QUERY', `a${bad}b`), 'invalid-name');
      // a comma separates dependencies, so only a name can hold it wrongly
      if (bad !== ',') assertError(line('INDEX', 'a', `b${bad}c`), 'invalid-dependency');
    }
  });

  test('[P-NAME-1] rejects non-ASCII bytes such as the UTF-8 of ☃', () => {
    assertError(line('QUERY', asWireText('☃')), 'invalid-name');
    assertError(line('INDEX', asWireText('snow☃man')), 'invalid-name');
    assertError(line('INDEX', 'a', asWireText('☃')), 'invalid-dependency');
    assertError(line('QUERY', '\u00e9'), 'invalid-name');
  });

  test('[P-NAME-1] rejects every control byte', () => {
    for (let byte = 0; byte < 0x20; byte++) {
      if (byte === 0x0a) continue;
      const control = String.fromCharCode(byte);
      assertError(line('QUERY', `a${control}`), 'invalid-name');
      assertError(line('INDEX', 'b', `a${control}`), 'invalid-dependency');
    }
    assertError(line('QUERY', 'a\u007f'), 'invalid-name');
  });

  test('[P-NAME-1] rejects a name followed by a line feed', () => {
    assertError(line('QUERY', 'a\n'), 'invalid-name');
  });
});

describe('parseLine: dependency lists', () => {
  test('[P-DEPS-1] rejects empty items anywhere in the list', () => {
    for (const deps of ['a,,b', 'a,', ',a', ',', ',,']) assertError(line('INDEX', 'p', deps), 'invalid-dependency');
  });

  test('[P-DEPS-1] counts a repeated dependency once, keeping first-seen order', () => {
    assert.deepEqual(parseLine(line('INDEX', 'p', 'b,a,b,c,a')), { kind: 'INDEX', name: 'p', deps: ['b', 'a', 'c'] });
    assert.deepEqual(parseLine(line('INDEX', 'p', 'a,a')), { kind: 'INDEX', name: 'p', deps: ['a'] });
  });

  test('[P-DEPS-1] treats names as case-sensitive when removing repeats', () => {
    assert.deepEqual(parseLine(line('INDEX', 'p', 'a,A')), { kind: 'INDEX', name: 'p', deps: ['a', 'A'] });
  });

  test('[P-DEPS-2] rejects dependencies on REMOVE and QUERY', () => {
    for (const command of ['REMOVE', 'QUERY']) {
      for (const deps of ['b', 'b,c', ',', ' ']) assertError(line(command, 'a', deps), 'unexpected-dependencies');
    }
  });

  test('[P-DEPS-3] rejects a package that lists itself as a dependency', () => {
    assertError(line('INDEX', 'a', 'a'), 'self-dependency');
    assertError(line('INDEX', 'a', 'b,c,a'), 'self-dependency');
    assertError(line('INDEX', 'a', 'a,a'), 'self-dependency');
  });

  test('[P-DEPS-3] allows a dependency that differs only in case', () => {
    assert.deepEqual(parseLine(line('INDEX', 'a', 'A')), { kind: 'INDEX', name: 'a', deps: ['A'] });
  });
});

describe('parseLine: which rule is reported first', () => {
  test('reports the field count before the command', () => {
    assertError('index|a', 'field-count');
  });

  test('reports the command before the name', () => {
    assertError(line('query', 'a b'), 'unknown-command');
  });

  test('reports the name before the dependencies', () => {
    assertError(line('INDEX', 'a b', 'c,,d'), 'invalid-name');
    assertError(line('QUERY', 'a b', 'c'), 'invalid-name');
  });
});

describe('parseLine: error values', () => {
  test('a rejected line gives one shared error value per reason, which nobody can change', () => {
    const first = parseLine('BLINDEX|a|');
    assert.equal(parseLine('FOO|b|'), first);
    assert.ok(Object.isFrozen(first));
    assert.ok(Object.isFrozen(protocolError('line-too-long')));
  });
});
