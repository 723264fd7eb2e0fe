/**
 * The graph with no durable copy: for `--in-memory`, tests, and as the baseline the durable stores
 * are measured against. Every reply is final as soon as the graph has answered.
 */
import { PackageGraph } from '../graph/package-graph.js';
import type { Command, Reply } from '../protocol/types.js';
import type { Backend, IndexCounts, ListOptions, PackageView } from './backend.js';
import { applyCommand, describePackage, listNames } from './graph-access.js';

export class MemoryBackend implements Backend {
  readonly description = 'in-memory (nothing is persisted)';
  readonly graph = new PackageGraph();

  async open(): Promise<void> {}

  execute(commands: readonly Command[], done: (replies: Reply[]) => void): void {
    const replies: Reply[] = new Array(commands.length);
    for (let i = 0; i < commands.length; i++) {
      replies[i] = applyCommand(this.graph, commands[i] as Command);
    }
    done(replies);
  }

  isAvailable(): boolean {
    return true;
  }

  async describe(name: string): Promise<PackageView | undefined> {
    return describePackage(this.graph, name);
  }

  async list(options: ListOptions): Promise<string[]> {
    return listNames(this.graph, options);
  }

  async counts(): Promise<IndexCounts> {
    return { packages: this.graph.size, dependencies: this.graph.edgeCount };
  }

  async close(): Promise<void> {}
}
