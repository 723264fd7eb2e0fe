/**
 * The outbound half of the codec: replies for the server, request lines for the CLI's client,
 * check and bench commands. One place knows how the wire looks.
 */
import type { Command, Reply } from './types.js';

/** The reply lines as bytes. Never written to, so every socket may share them. */
export const REPLY_BYTES: { readonly [R in Reply]: Buffer } = {
  OK: Buffer.from('OK\n', 'latin1'),
  FAIL: Buffer.from('FAIL\n', 'latin1'),
  ERROR: Buffer.from('ERROR\n', 'latin1'),
};

/** The longest reply line, in bytes. */
export const MAX_REPLY_BYTES = REPLY_BYTES.ERROR.length;

/** Writes the reply's line into `out` at `at`, where MAX_REPLY_BYTES must fit; returns where the next one goes. */
export function writeReply(out: Buffer, at: number, reply: Reply): number {
  const bytes = REPLY_BYTES[reply];
  for (let i = 0; i < bytes.length; i++) out[at + i] = bytes[i] as number;
  return at + bytes.length;
}

export function encodeCommand(command: Command): string {
  const deps = command.kind === 'INDEX' ? command.deps.join(',') : '';
  return `${command.kind}|${command.name}|${deps}\n`;
}

/** Reads one reply line (without its line feed); anything else is undefined. */
export function decodeReply(line: string): Reply | undefined {
  if (line === 'OK' || line === 'FAIL' || line === 'ERROR') return line;
  return undefined;
}
