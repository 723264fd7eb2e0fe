/**
 * The graph with no durable copy: for `--in-memory`, tests, and as the baseline the durable stores
 * are measured against. Every reply is final as soon as the graph has answered, and every change
 * is committed as soon as it is made.
 */
import { PackageGraph } from '../graph/package-graph.js';
import { silentLogger, type Logger } from '../log.js';
import type { Command, Reply } from '../protocol/types.js';
import type { Backend, IndexCounts } from './backend.js';
import { ChangeLog, type Change } from './change-log.js';
import { applyCommand, applyWrite, changeOf } from './graph-access.js';
import { GraphReplica } from './graph-replica.js';
import { exportOfGraphState, type IndexExport } from './index-export.js';
import { snapshotOfGraphState, type StoreSnapshot } from './store-snapshot.js';

export class MemoryBackend implements Backend {
  readonly description = 'in-memory (nothing is persisted)';
  readonly graph = new PackageGraph();
  readonly changes = new ChangeLog();
  readonly reader: GraphReplica;

  constructor(options: { readonly logger?: Logger } = {}) {
    this.reader = new GraphReplica(options.logger ?? silentLogger(), () => ({ graph: this.graph, feed: this.changes }));
  }

  async open(): Promise<void> {}

  execute(commands: readonly Command[], done: (replies: Reply[]) => void): void {
    const replies: Reply[] = new Array(commands.length);
    const changes: Change[] | undefined = this.changes.wanted ? [] : undefined;
    for (let i = 0; i < commands.length; i++) {
      const command = commands[i] as Command;
      if (changes === undefined || command.kind === 'QUERY') {
        replies[i] = applyCommand(this.graph, command);
        continue;
      }
      const { reply, previous } = applyWrite(this.graph, command);
      replies[i] = reply;
      if (previous !== undefined) changes.push(changeOf(command));
    }
    if (changes !== undefined) this.changes.append(changes);
    done(replies);
  }

  isAvailable(): boolean {
    return true;
  }

  async exportIndex(): Promise<IndexExport> {
    return exportOfGraphState(this.graph.exportState());
  }

  snapshot(): Promise<StoreSnapshot> {
    return snapshotOfGraphState(this.graph.exportState());
  }

  async counts(): Promise<IndexCounts> {
    return { packages: this.graph.size, dependencies: this.graph.edgeCount };
  }

  async close(): Promise<void> {
    await this.reader.close();
  }
}
