/**
 * A package name stored by the graph must not keep its request line alive. The check reads a heap
 * snapshot (node:v8, taken after a full collection): a line that only garbage refers to is absent,
 * a line something still holds is present. A control case proves the check can see a held line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapSnapshot } from 'node:v8';
import { text } from 'node:stream/consumers';
import { PackageGraph } from '../../src/graph/package-graph.js';
import { parseLine } from '../../src/protocol/parse.js';

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[] } };
  nodes: number[];
  strings: string[];
}

/** A request line as the server decodes it (latin1 from bytes), with about 1 KB of dependencies. */
function requestLine(tag: string, name: string): string {
  const deps = Array.from({ length: 30 }, (_, k) => `${tag}-dependency-${k}`);
  return Buffer.from(`INDEX|${name}|${deps.join(',')}`, 'latin1').toString('latin1');
}

/** The name as the parser returns it: a slice of the line. */
function nameFrom(line: string): string {
  const command = parseLine(line);
  assert.ok(command.kind === 'INDEX');
  return command.name;
}

/** Which tags' request lines are still alive. */
async function liveLines(...tags: string[]): Promise<Set<string>> {
  const snapshot = JSON.parse(await text(getHeapSnapshot())) as HeapSnapshot;
  const fields = snapshot.snapshot.meta.node_fields;
  const nameField = fields.indexOf('name');
  const live = new Set<string>();
  for (let at = 0; at < snapshot.nodes.length; at += fields.length) {
    const name = snapshot.strings[snapshot.nodes[at + nameField] as number] ?? '';
    if (!name.startsWith('INDEX|')) continue;
    for (const tag of tags) if (name.includes(`|${tag}-dependency-0,`)) live.add(tag);
  }
  return live;
}

test('a stored package name keeps neither the line that indexed it nor the line that replaced it', async () => {
  const graph = new PackageGraph();
  const held: string[] = [];
  (() => {
    held.push(nameFrom(requestLine('control', 'control-package-with-a-long-name')));
    assert.equal(graph.index(nameFrom(requestLine('first', 'indexed-package-with-a-long-name')), []), 'ok');
    assert.equal(graph.index(nameFrom(requestLine('second', 'indexed-package-with-a-long-name')), []), 'ok');
  })();
  // RegExp's legacy statics (RegExp.input) hold the last string the parser tested: not ours to keep
  parseLine('QUERY|unrelated|');
  const live = await liveLines('control', 'first', 'second');
  assert.deepEqual([...live], ['control'], 'only the line whose slice is still held is alive');
  assert.equal(held.length, 1);
  assert.ok(graph.has('indexed-package-with-a-long-name'));
});
