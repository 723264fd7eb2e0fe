/**
 * The behaviour every Backend must have, run against each one (memory, SQLite, PostgreSQL): the
 * protocol's rules through `execute`, the read API, and `close`. It knows nothing of how a
 * backend stores things; each run gets a fresh, empty, opened backend from `makeBackend`.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { parseLine } from '../../src/protocol/parse.js';
import type { Command, Reply } from '../../src/protocol/types.js';
import type { Backend } from '../../src/store/backend.js';

export interface ContractSubject {
  /** Opened and empty. */
  readonly backend: Backend;
  /** Closes the backend if the test has not, and removes whatever it stored. */
  cleanup(): Promise<void>;
}

/** Parses request lines (without `\n`), each of which must be a valid command. */
export function commandsOf(...lines: string[]): Command[] {
  return lines.map((line) => {
    const parsed = parseLine(line);
    assert.notEqual(parsed.kind, 'error', `"${line}" is not a valid command`);
    return parsed as Command;
  });
}

/** `execute` as a promise; fails the test if `done` is called more than once. */
export function run(backend: Backend, ...lines: string[]): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    let calls = 0;
    backend.execute(commandsOf(...lines), (replies) => {
      calls++;
      if (calls > 1) reject(new Error('done was called more than once'));
      else resolve(replies);
    });
  });
}

export function runBackendContract(name: string, makeBackend: () => Promise<ContractSubject>): void {
  async function fresh(t: TestContext): Promise<Backend> {
    const subject = await makeBackend();
    t.after(() => subject.cleanup());
    return subject.backend;
  }

  describe(`${name} backend contract`, () => {
    test('indexes packages whose dependencies are indexed and refuses the others', async (t) => {
      const backend = await fresh(t);
      assert.deepEqual(await run(backend, 'INDEX|b|a', 'INDEX|a|', 'INDEX|b|a', 'QUERY|a|', 'QUERY|b|', 'QUERY|c|'), ['FAIL', 'OK', 'OK', 'OK', 'OK', 'FAIL']);
    });

    test('removes a package only when nothing depends on it, and removing an absent one is OK', async (t) => {
      const backend = await fresh(t);
      assert.deepEqual(await run(backend, 'INDEX|a|', 'INDEX|b|a', 'REMOVE|a|', 'REMOVE|b|', 'REMOVE|a|', 'REMOVE|a|', 'QUERY|a|'), [
        'OK',
        'OK',
        'FAIL',
        'OK',
        'OK',
        'OK',
        'FAIL',
      ]);
    });

    test('re-indexing replaces the dependency list rather than adding to it', async (t) => {
      const backend = await fresh(t);
      assert.deepEqual(await run(backend, 'INDEX|a|', 'INDEX|b|', 'INDEX|c|a', 'INDEX|c|b'), ['OK', 'OK', 'OK', 'OK']);
      assert.deepEqual(await run(backend, 'REMOVE|a|', 'REMOVE|b|'), ['OK', 'FAIL']);
      assert.deepEqual((await backend.reader.describe('c', 1_000))?.dependencies, ['b']);
      assert.deepEqual(await run(backend, 'INDEX|c|', 'REMOVE|b|'), ['OK', 'OK']);
    });

    test('a failed re-index keeps the old dependency list', async (t) => {
      const backend = await fresh(t);
      assert.deepEqual(await run(backend, 'INDEX|a|', 'INDEX|c|a', 'INDEX|c|a,missing', 'REMOVE|a|'), ['OK', 'OK', 'FAIL', 'FAIL']);
      assert.deepEqual((await backend.reader.describe('c', 1_000))?.dependencies, ['a']);
    });

    test('applies a batch in order, each command seeing the ones before it', async (t) => {
      const backend = await fresh(t);
      assert.deepEqual(await run(backend, 'INDEX|a|', 'INDEX|b|a', 'REMOVE|a|', 'REMOVE|b|', 'REMOVE|a|', 'INDEX|b|a', 'QUERY|b|'), [
        'OK',
        'OK',
        'FAIL',
        'OK',
        'OK',
        'FAIL',
        'FAIL',
      ]);
    });

    // batches from different connections may run concurrently, so these touch different packages
    test('answers batches given in the same turn, each once and with its own replies', async (t) => {
      const backend = await fresh(t);
      const first = run(backend, 'INDEX|a|', 'INDEX|b|a', 'REMOVE|a|');
      const second = run(backend, 'INDEX|c|', 'QUERY|c|', 'INDEX|d|missing');
      const third = run(backend, 'QUERY|zzz|');
      assert.deepEqual(await Promise.all([first, second, third]), [['OK', 'OK', 'FAIL'], ['OK', 'OK', 'FAIL'], ['FAIL']]);
    });

    test('answers an empty batch with no replies', async (t) => {
      const backend = await fresh(t);
      assert.deepEqual(await run(backend), []);
    });

    test('describes a package with its dependencies and dependents in name order', async (t) => {
      const backend = await fresh(t);
      await run(backend, 'INDEX|zlib|', 'INDEX|Alpha|', 'INDEX|m|zlib,Alpha', 'INDEX|b|m', 'INDEX|a|m,zlib');
      assert.deepEqual(await backend.reader.describe('m', 1_000), { name: 'm', dependencies: ['Alpha', 'zlib'], dependents: ['a', 'b'], dependentsTotal: 2 });
      assert.deepEqual(await backend.reader.describe('zlib', 1_000), { name: 'zlib', dependencies: [], dependents: ['a', 'm'], dependentsTotal: 2 });
      assert.equal(await backend.reader.describe('missing', 1_000), undefined);
      await run(backend, 'REMOVE|a|');
      assert.deepEqual((await backend.reader.describe('zlib', 1_000))?.dependents, ['m']);
    });

    test('lists names in code-point order, by prefix, after a cursor, up to a limit', async (t) => {
      const backend = await fresh(t);
      await run(backend, 'INDEX|lib-b|', 'INDEX|Zeta|', 'INDEX|lib-a|', 'INDEX|lib-c|', 'INDEX|other|', 'INDEX|lib-d|');
      assert.deepEqual(await backend.reader.list({ prefix: '', after: '', limit: 100 }), ['Zeta', 'lib-a', 'lib-b', 'lib-c', 'lib-d', 'other']);
      assert.deepEqual(await backend.reader.list({ prefix: 'lib-', after: '', limit: 2 }), ['lib-a', 'lib-b']);
      assert.deepEqual(await backend.reader.list({ prefix: 'lib-', after: 'lib-b', limit: 2 }), ['lib-c', 'lib-d']);
      assert.deepEqual(await backend.reader.list({ prefix: 'lib-', after: 'lib-d', limit: 2 }), []);
      assert.deepEqual(await backend.reader.list({ prefix: 'none', after: '', limit: 10 }), []);
      await run(backend, 'REMOVE|lib-b|');
      assert.deepEqual(await backend.reader.list({ prefix: 'lib-', after: '', limit: 10 }), ['lib-a', 'lib-c', 'lib-d']);
    });

    test('pages through names indexed in no particular order, each page holding the next smallest', async (t) => {
      const backend = await fresh(t);
      // 7919 is prime, so i * 7919 % 300 visits every number below 300 once, out of order
      const numbers = Array.from({ length: 300 }, (_, i) => String((i * 7919) % 300).padStart(3, '0'));
      await run(backend, ...numbers.map((n) => (Number(n) % 3 === 0 ? `INDEX|other-${n}|` : `INDEX|lib-${n}|`)));
      const expected = numbers
        .filter((n) => Number(n) % 3 !== 0)
        .map((n) => `lib-${n}`)
        .sort();
      const pages: string[][] = [];
      for (let after = ''; ; ) {
        const page = await backend.reader.list({ prefix: 'lib-', after, limit: 7 });
        if (page.length === 0) break;
        pages.push(page);
        after = page.at(-1) as string;
      }
      assert.deepEqual(pages.flat(), expected);
      assert.ok(pages.slice(0, -1).every((page) => page.length === 7));
      assert.deepEqual(await backend.reader.list({ prefix: '', after: 'lib-150', limit: 3 }), ['lib-151', 'lib-152', 'lib-154']);
      assert.deepEqual(await backend.reader.list({ prefix: 'other-29', after: '', limit: 500 }), ['other-291', 'other-294', 'other-297']);
    });

    test('counts packages and dependency edges as they change', async (t) => {
      const backend = await fresh(t);
      assert.deepEqual(await backend.counts(), { packages: 0, dependencies: 0 });
      await run(backend, 'INDEX|a|', 'INDEX|b|', 'INDEX|c|a,b', 'INDEX|d|c');
      assert.deepEqual(await backend.counts(), { packages: 4, dependencies: 3 });
      await run(backend, 'INDEX|c|a', 'REMOVE|d|', 'REMOVE|b|');
      assert.deepEqual(await backend.counts(), { packages: 2, dependencies: 1 });
    });

    test('is available once opened', async (t) => {
      const backend = await fresh(t);
      assert.equal(backend.isAvailable(), true);
    });

    test('close answers every batch it was given before it resolves', async (t) => {
      const backend = await fresh(t);
      const answered = new Map<string, Reply[]>();
      backend.execute(commandsOf('INDEX|a|', 'INDEX|b|a'), (replies) => answered.set('first', replies));
      backend.execute(commandsOf('QUERY|zzz|'), (replies) => answered.set('second', replies));
      await backend.close();
      assert.deepEqual(Object.fromEntries(answered), { first: ['OK', 'OK'], second: ['FAIL'] });
    });
  });
}
