/**
 * Opens many client connections for check and bench, spread over several servers round-robin,
 * in batches so that a thousand at once do not flood a listen backlog. All or nothing: when one
 * cannot connect, the others are closed and the error is thrown.
 */
import { ProtocolClient } from './protocol-client.js';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Connections opened at once. */
const CONNECT_BATCH = 200;

export async function connectMany(targets: readonly Endpoint[], count: number): Promise<ProtocolClient[]> {
  if (targets.length === 0) throw new RangeError('connectMany needs at least one target');
  const clients: ProtocolClient[] = [];
  for (let first = 0; first < count; first += CONNECT_BATCH) {
    const batch = Array.from({ length: Math.min(CONNECT_BATCH, count - first) }, (_, k) => {
      const target = targets[(first + k) % targets.length] as Endpoint;
      return ProtocolClient.connect(target.host, target.port);
    });
    const outcomes = await Promise.allSettled(batch);
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') clients.push(outcome.value);
    }
    const refused = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (refused !== undefined) {
      for (const client of clients) client.close();
      throw refused.reason;
    }
  }
  return clients;
}
