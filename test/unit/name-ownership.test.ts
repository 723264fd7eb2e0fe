/**
 * A package name indexed through the protocol must not keep its request line alive. The graph
 * keeps the strings it is given, so the server's parser must hand it strings of their own: V8 makes
 * a substring of 13 characters or more a view into its parent (a sliced string) that keeps the whole
 * parent alive. The check reads a heap snapshot (node:v8), where each string says whether it is such
 * a view; a control case proves the check sees one. (Names loaded from the store are views into the
 * store's reads, 8,192 names each; there the parent is little more than the names it holds.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapSnapshot } from 'node:v8';
import { text } from 'node:stream/consumers';
import { PackageGraph } from '../../src/graph/package-graph.js';
import { parseLineBytes } from '../../src/protocol/parse-bytes.js';

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
}

/** Live strings that are views into another string (the snapshot does not show their text). */
async function slicedStrings(): Promise<number> {
  const snapshot = JSON.parse(await text(getHeapSnapshot())) as HeapSnapshot;
  const fields = snapshot.snapshot.meta.node_fields;
  const sliced = snapshot.snapshot.meta.node_types[0].indexOf('sliced string');
  const typeField = fields.indexOf('type');
  let count = 0;
  for (let at = 0; at < snapshot.nodes.length; at += fields.length) if (snapshot.nodes[at + typeField] === sliced) count++;
  return count;
}

const NAMES = 200;

/** About 1 KB of request line after another line, as a socket's chunk holds them. */
function requestChunk(name: string): Buffer {
  const deps = Array.from({ length: 30 }, (_, k) => `shared-dependency-${k}`);
  return Buffer.from(`QUERY|x|\nINDEX|${name}|${deps.join(',')}\n`, 'latin1');
}

test('the names the server parses and the graph keeps are strings of their own, not views of their line', async () => {
  const graph = new PackageGraph();
  for (let k = 0; k < 30; k++) graph.index(`shared-dependency-${k}`, []);
  const before = await slicedStrings();
  for (let i = 0; i < NAMES; i++) {
    const chunk = requestChunk(`indexed-package-with-a-long-name-${i}`);
    const command = parseLineBytes(chunk, chunk.indexOf('INDEX'), chunk.length - 1);
    assert.ok(command.kind === 'INDEX');
    assert.equal(graph.index(command.name, command.deps), 'ok');
  }
  const kept = await slicedStrings();
  // the control: the same names sliced from their decoded lines, and held
  const held: string[] = [];
  for (let i = 0; i < NAMES; i++) {
    const line = requestChunk(`held-package-with-a-long-name-${i}`).toString('latin1');
    held.push(line.slice(line.indexOf('INDEX|') + 6, line.lastIndexOf('|')));
  }
  const control = await slicedStrings();

  assert.ok(control - kept >= NAMES, `the check must see held views: ${control - kept} more, expected ${NAMES}`);
  assert.ok(kept - before < NAMES / 10, `${kept - before} more views after indexing ${NAMES} names`);
  assert.equal(graph.size, 30 + NAMES);
  assert.equal(held.length, NAMES);
});
