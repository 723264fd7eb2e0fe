/**
 * Seeds for randomized tests. Each test prints the seed it used, and takes one from the
 * environment instead, so that a failure seen once can be replayed.
 */
import { randomInt } from 'node:crypto';
import type { TestContext } from 'node:test';

/** The variable every property test reads its seed from. */
export const TEST_SEED_VARIABLE = 'PACKAGE_INDEXER_TEST_SEED';

/**
 * The whole number in the environment variable `variable` when it is set, else a fresh one;
 * printed either way, with the setting that replays it.
 */
export function testSeed(t: TestContext, variable = TEST_SEED_VARIABLE): number {
  const raw = process.env[variable];
  const seed = raw === undefined || raw.trim() === '' ? randomInt(2 ** 31) : Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`${variable} must be a whole number, not ${JSON.stringify(raw)}`);
  const note = `seed ${seed} (replay with ${variable}=${seed})`;
  t.diagnostic(note);
  // at once as well: a diagnostic is printed when the test ends, and a hung test never does
  process.stderr.write(`${t.name}: ${note}\n`);
  return seed;
}
