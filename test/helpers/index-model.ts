/**
 * The protocol's rules read literally, with no reverse index: slow but obviously right. Property
 * tests run random command sequences against it and against the real graph or store.
 */
import fc from 'fast-check';

export type Step =
  | { readonly kind: 'INDEX'; readonly name: string; readonly deps: readonly string[] }
  | { readonly kind: 'REMOVE'; readonly name: string }
  | { readonly kind: 'QUERY'; readonly name: string };

export type Outcome = 'ok' | 'fail';

export function sorted(names: Iterable<string>): string[] {
  return [...names].sort();
}

export class NaiveModel {
  packages = new Map<string, readonly string[]>();

  apply(step: Step): Outcome {
    switch (step.kind) {
      case 'INDEX':
        if (!step.deps.every((dep) => this.packages.has(dep))) return 'fail';
        this.packages.set(step.name, step.deps);
        return 'ok';
      case 'REMOVE':
        if ([...this.packages.values()].some((deps) => deps.includes(step.name))) return 'fail';
        this.packages.delete(step.name);
        return 'ok';
      case 'QUERY':
        return this.packages.has(step.name) ? 'ok' : 'fail';
    }
  }

  dependentsOf(name: string): string[] {
    return sorted([...this.packages].filter(([, deps]) => deps.includes(name)).map(([dependent]) => dependent));
  }
}

/** The parser rejects a package that depends on itself [P-DEPS-3], so no step sent may hold one. */
export function withoutSelf(step: Step): Step {
  return step.kind === 'INDEX' ? { ...step, deps: step.deps.filter((dep) => dep !== step.name) } : step;
}

/** The request line of a step, without `\n`; self-dependencies are dropped. */
export function lineOf(step: Step): string {
  const sendable = withoutSelf(step);
  return sendable.kind === 'INDEX' ? `INDEX|${sendable.name}|${sendable.deps.join(',')}` : `${sendable.kind}|${sendable.name}|`;
}

/** INDEX (with up to three dependencies), REMOVE and QUERY of the given names, weighted 3:2:1. */
export function stepArbitrary(names: readonly string[]): fc.Arbitrary<Step> {
  const name = fc.constantFrom(...names);
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('INDEX' as const), name, deps: fc.uniqueArray(name, { maxLength: 3 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('REMOVE' as const), name }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('QUERY' as const), name }) },
  );
}
