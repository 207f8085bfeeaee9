// A loopback TCP proxy for tests: cuts connections abruptly (dropAll) or silently (freeze), the
// two ways an edge device vanishes, without reaching into the client under test.
import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  url: string;
  /** Destroys every proxied connection at once (both sides see the socket close). */
  dropAll(): void;
  /** Stops forwarding in both directions and holds new connections: peers see silence, not a close. */
  freeze(): void;
  /** Ends a freeze: cuts the frozen and held connections (as a long-dead link shows up) and forwards new ones. */
  thaw(): void;
  close(): Promise<void>;
  /** Every byte forwarded so far, both directions (what a capture on the link would see). */
  recorded(): Buffer;
}

export async function startTcpProxy(targetPort: number, host = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket | undefined]>();
  let isFrozen = false;
  const chunks: Buffer[] = [];
  const server = createServer((downstream) => {
    downstream.on('error', () => {});
    if (isFrozen) {
      downstream.pause();
      pairs.add([downstream, undefined]);
      return;
    }
    const upstream = createConnection({ host, port: targetPort });
    upstream.on('error', () => {});
    const pair: [Socket, Socket] = [downstream, upstream];
    pairs.add(pair);
    downstream.on('data', (c: Buffer) => chunks.push(c));
    upstream.on('data', (c: Buffer) => chunks.push(c));
    downstream.pipe(upstream);
    upstream.pipe(downstream);
    const drop = () => {
      if (isFrozen) return; // a frozen link stays open on both sides
      downstream.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    downstream.on('close', drop);
    upstream.on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const destroyAll = () => {
    for (const [a, b] of pairs) {
      a.destroy();
      b?.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    url: `mqtt://${host}:${port}`,
    dropAll: destroyAll,
    recorded: () => Buffer.concat(chunks),
    freeze() {
      isFrozen = true;
      for (const [a, b] of pairs) {
        a.unpipe();
        b?.unpipe();
        a.pause();
        b?.pause();
      }
    },
    thaw() {
      isFrozen = false;
      destroyAll();
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      isFrozen = false;
      destroyAll();
      await closed;
    },
  };
}
