/**
 * Who may read the admin port: with a token set, every request but the health probes must carry
 * it, as the password of HTTP Basic (what a browser prompts for; the user name is ignored) or as
 * `Authorization: Bearer` (curl, Prometheus' `authorization` setting). Both sides are hashed
 * before a constant-time compare, so neither the token's length nor its prefix leaks by timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** Probes that orchestrators send without credentials. */
const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

export const CHALLENGES = ['Basic realm="package-indexer admin", charset="UTF-8"', 'Bearer realm="package-indexer admin"'];

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export class AdminToken {
  readonly #digest: Buffer;

  constructor(token: string) {
    this.#digest = digest(token);
  }

  /** True when the request may go on: a probe path, or credentials that carry the token. */
  admits(pathname: string, authorization: string | undefined): boolean {
    if (OPEN_PATHS.has(pathname)) return true;
    const offered = offeredToken(authorization);
    return offered !== undefined && timingSafeEqual(digest(offered), this.#digest);
  }
}

/** The token in an Authorization header: a Bearer token, or the password of Basic credentials. */
function offeredToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^(Basic|Bearer)[ ]+(\S+)\s*$/i.exec(authorization);
  if (match === null) return undefined;
  const [, scheme = '', credentials = ''] = match;
  if (scheme.toLowerCase() === 'bearer') return credentials;
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

/** Whether only this machine can reach a listener on `host`. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}
