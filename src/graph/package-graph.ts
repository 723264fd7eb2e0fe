/**
 * The dependency index itself: forward edges (a package's dependencies) and reverse edges (who
 * depends on it), so that every command costs O(its dependencies), never O(packages). Pure and
 * synchronous; the stores decide what is durable, this decides what is true.
 */

export type GraphOutcome = 'ok' | 'fail';

const NO_DEPENDENTS: ReadonlySet<string> = new Set();

export class PackageGraph {
  #dependencies = new Map<string, readonly string[]>();
  #dependents = new Map<string, Set<string>>();
  #edgeCount = 0;

  /** Indexed packages. */
  get size(): number {
    return this.#dependencies.size;
  }

  /** Dependency edges between indexed packages. */
  get edgeCount(): number {
    return this.#edgeCount;
  }

  has(name: string): boolean {
    return this.#dependencies.has(name);
  }

  /** The package's dependencies, or undefined when it is not indexed. */
  dependenciesOf(name: string): readonly string[] | undefined {
    return this.#dependencies.get(name);
  }

  /** Indexed packages that list `name` as a dependency. */
  dependentsOf(name: string): ReadonlySet<string> {
    return this.#dependents.get(name) ?? NO_DEPENDENTS;
  }

  names(): IterableIterator<string> {
    return this.#dependencies.keys();
  }

  /** [P-INDEX-1] adds the package or replaces its dependency list, if every dependency is indexed. */
  index(name: string, deps: readonly string[]): GraphOutcome {
    for (const dep of deps) {
      if (!this.#dependencies.has(dep)) return 'fail';
    }
    this.set(name, deps);
    return 'ok';
  }

  /** [P-REMOVE-1] removes the package unless another indexed package depends on it. */
  remove(name: string): GraphOutcome {
    if (this.dependentsOf(name).size > 0) return 'fail';
    this.set(name, null);
    return 'ok';
  }

  /**
   * Puts a package into the given state (deps, or null for "not indexed") without checking that
   * its dependencies exist: for loading a store and for undoing changes a store failed to commit.
   * `deps` must hold distinct names.
   */
  set(name: string, deps: readonly string[] | null): void {
    const previous = this.#dependencies.get(name);
    if (previous !== undefined) {
      for (const dep of previous) this.#unlink(name, dep);
      this.#edgeCount -= previous.length;
    }
    if (deps === null) {
      this.#dependencies.delete(name);
      return;
    }
    this.#dependencies.set(name, deps);
    this.#edgeCount += deps.length;
    for (const dep of deps) {
      let dependents = this.#dependents.get(dep);
      if (dependents === undefined) {
        dependents = new Set();
        this.#dependents.set(dep, dependents);
      }
      dependents.add(name);
    }
  }

  /** Names of dependencies that are not indexed, for checking a loaded store. */
  *missingDependencies(): IterableIterator<{ readonly name: string; readonly dependency: string }> {
    for (const [name, deps] of this.#dependencies) {
      for (const dependency of deps) {
        if (!this.#dependencies.has(dependency)) yield { name, dependency };
      }
    }
  }

  #unlink(name: string, dep: string): void {
    const dependents = this.#dependents.get(dep);
    if (dependents === undefined) return;
    dependents.delete(name);
    if (dependents.size === 0) this.#dependents.delete(dep);
  }
}
