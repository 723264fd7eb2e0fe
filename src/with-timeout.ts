/**
 * Waiting for a promise with a deadline, in one place for the server's shutdown, the PostgreSQL
 * pool's statement timeout and the client side's waits: the timer is cleared as soon as the
 * promise settles, so a finished wait leaves nothing behind to hold the process open.
 */

/** What `withTimeout` resolves with when the deadline came first. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * Settles as `promise` does if it settles within `ms`; otherwise resolves with TIMED_OUT (the
 * promise itself runs on: cancelling the work is the caller's business).
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMED_OUT);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
