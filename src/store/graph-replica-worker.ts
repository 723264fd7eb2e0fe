/**
 * The read side's thread: a copy of the graph that also tracks dependents and keeps names sorted,
 * fed with the main graph's state once and then with every committed change in commit order, and
 * answering questions between changes. Messages are handled one at a time, in the order they were
 * posted, so an answer always reflects exactly the changes committed before the question was asked.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { closureOf, compareNames, cyclesOf, installOrderOf, shortestPath, summaryOf } from '../graph/graph-questions.js';
import { PackageGraph } from '../graph/package-graph.js';
import { SortedNames } from '../graph/sorted-names.js';
import type { ReplicaAnswer, ReplicaMessage, ReplicaQuestion } from './graph-replica.js';
import type { PackageView } from './index-reader.js';

/** Ten steps below the protocol's thread: when both want one core, the protocol gets about nine tenths of it. */
const READ_SIDE_NICENESS = 10;

const port = parentPort;
if (port === null) throw new Error('graph-replica-worker runs as a worker thread only');
yieldToTheProtocol();

let graph = new PackageGraph({ trackDependents: true });
const sorted = new SortedNames();

port.on('message', (message: ReplicaMessage) => {
  switch (message.type) {
    case 'load': {
      graph = new PackageGraph({ trackDependents: true });
      sorted.reset(graph.importState(message.state));
      return;
    }
    case 'changes': {
      for (const change of message.changes) {
        const known = graph.has(change.name);
        const outcome = change.command === 'INDEX' ? graph.index(change.name, change.dependencies) : graph.remove(change.name);
        // the same changes in the same order cannot be refused here unless the copies differ
        if (outcome === 'fail') port.postMessage({ type: 'diverged', change } satisfies ReplicaAnswer);
        else if (change.command === 'INDEX' && !known) sorted.add(change.name);
        else if (change.command === 'REMOVE' && known) sorted.remove(change.name);
      }
      return;
    }
    case 'ask': {
      try {
        port.postMessage({ type: 'answer', id: message.id, answer: answer(message.question) } satisfies ReplicaAnswer);
      } catch (error) {
        port.postMessage({ type: 'failed', id: message.id, message: error instanceof Error ? error.message : String(error) } satisfies ReplicaAnswer);
      }
    }
  }
});

function answer(question: ReplicaQuestion): unknown {
  switch (question.kind) {
    case 'describe':
      return describe(question.name, question.limit);
    case 'list':
      return sorted.page(question.prefix, question.after, question.limit);
    case 'closure':
      return closureOf(graph, question.name, question.direction, question.depth, question.limit);
    case 'installOrder':
      return installOrderOf(graph, question.name, question.limit);
    case 'path':
      return shortestPath(graph, question.from, question.to);
    case 'cycles':
      return cyclesOf(graph, question.limit);
    case 'summary':
      return summaryOf(graph, question.top, question.sample);
  }
}

function describe(name: string, limit: number): PackageView | undefined {
  const id = graph.idOf(name);
  if (id === undefined) return undefined;
  const dependencies: string[] = [];
  graph.forEachDependencyId(id, (dependency) => dependencies.push(graph.nameAt(dependency) as string));
  const dependents = closureOf(graph, name, 'dependents', 1, limit);
  return {
    name,
    dependencies: dependencies.sort(compareNames),
    dependents: dependents?.packages.map((entry) => entry.name) ?? [],
    dependentsTotal: graph.dependentCountAt(id),
  };
}

/**
 * On a machine with few cores, a long question competes with the protocol's thread for the CPU.
 * Linux schedules threads one by one, so this thread lowers its own priority (raising the nice
 * value needs no privilege); elsewhere, or if /proc is not there, it keeps the default.
 */
function yieldToTheProtocol(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    if (Number.isSafeInteger(threadId) && threadId > 0) setPriority(threadId, READ_SIDE_NICENESS);
  } catch {
    // not Linux, or no /proc: the read side runs at the default priority
  }
}
