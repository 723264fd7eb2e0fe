/**
 * A TCP relay on loopback that delays every chunk by a fixed time each way, standing for the
 * network between a primary and a standby in another zone or region. On one machine, streaming
 * replication is so quick that an asynchronous standby almost never misses a commit; with the
 * delay, WAL the primary sent but the standby has not received is in flight when the primary
 * dies, and is lost with it, as on a real network: when one side closes, what is still on its way
 * is dropped, not delivered.
 *
 * It can also stall the connections it carries, as a host that vanishes without a reset does.
 */
import net from 'node:net';

export interface LatencyProxy {
  readonly port: number;
  /** The connections open now carry nothing more either way and stay open; later ones relay as before. */
  stall(): void;
  close(): Promise<void>;
}

interface Link {
  stalled: boolean;
}

export async function startLatencyProxy(targetPort: number, oneWayMs: number): Promise<LatencyProxy> {
  const sockets = new Set<net.Socket>();
  const links = new Set<Link>();
  const server = net.createServer((downstream) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    const link: Link = { stalled: false };
    links.add(link);
    for (const socket of [downstream, upstream]) {
      sockets.add(socket);
      socket.on('close', () => {
        sockets.delete(socket);
        links.delete(link);
      });
    }
    relay(downstream, upstream, oneWayMs, link);
    relay(upstream, downstream, oneWayMs, link);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the latency proxy has no port');
  return {
    port: address.port,
    stall: () => {
      for (const link of links) link.stalled = true;
      links.clear();
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Sends what `from` reads to `to`, `delayMs` later, in order, until the link stalls; once either
 * side ends, both are destroyed and nothing more is sent.
 */
function relay(from: net.Socket, to: net.Socket, delayMs: number, link: Link): void {
  let broken = false;
  const breakBoth = (): void => {
    broken = true;
    from.destroy();
    to.destroy();
  };
  from.on('data', (chunk: Buffer) => {
    setTimeout(() => {
      if (!broken && !link.stalled) to.write(chunk);
    }, delayMs);
  });
  from.on('error', breakBoth);
  from.on('close', breakBoth);
}
