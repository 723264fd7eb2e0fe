/**
 * How a server started as a child process tells its parent where it listens: one message on the
 * IPC channel Node opens when the parent spawns it with 'ipc' in its stdio. Unlike a log line, it
 * depends on no log level or format, and a server started any other way sends nothing.
 */
import type { AddressInfo } from 'node:net';

export interface ListeningMessage {
  readonly kind: 'listening';
  /** The protocol listener. */
  readonly address: AddressInfo;
  /** The admin listener, when there is one. */
  readonly adminAddress?: AddressInfo | undefined;
}

/** Tells the parent where this process listens, when the parent opened an IPC channel. */
export function announceListening(address: AddressInfo, adminAddress?: AddressInfo): void {
  if (process.send === undefined) return;
  const message: ListeningMessage = { kind: 'listening', address, adminAddress };
  process.send(message);
  // the channel must not keep the server running once everything else is closed
  process.channel?.unref();
}

export function isListeningMessage(message: unknown): message is ListeningMessage {
  if (typeof message !== 'object' || message === null || !('kind' in message) || message.kind !== 'listening') return false;
  if (!('address' in message) || typeof message.address !== 'object' || message.address === null) return false;
  return 'port' in message.address && typeof message.address.port === 'number';
}
