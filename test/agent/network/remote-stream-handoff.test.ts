// A connection to another node (or out of the cluster) is opened on the agent's main thread before
// it is handed to the guest's ring (tcp-connect.ts streamAcceptor, runtime/net/net-relay.ts): a
// guest that ends in between must not leave that stream open.
import { MessageChannel } from 'node:worker_threads';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NetRelay } from '../../../runtime/net/net-relay.js';
import { createControlBuffer } from '../../../runtime/worker/guest-messages.js';
import type { StreamAcceptor } from '../../../runtime/net/byte-ring.js';
import { streamAcceptor } from '../../../agent/network/tcp-connect.js';

describe('a remote stream opened for a guest', () => {
  it('is closed when the guest ends between the stream opening and its hand-off', async () => {
    const { port1, port2 } = new MessageChannel();
    let open!: (accept: StreamAcceptor) => void;
    const relay = new NetRelay(port1, {
      listening: () => undefined,
      closed: () => undefined,
      connect: () => new Promise<StreamAcceptor>((resolve) => { open = resolve; }),
    });
    relay.attach(new Int32Array(createControlBuffer()));
    const replies: unknown[] = [];
    port2.on('message', (reply) => replies.push(reply));
    port2.postMessage({ id: 1, kind: 'connect', host: '10.42.1.5', port: 7000, localPort: 40000 });
    await until(() => open !== undefined);
    // the guest's run ends while the tunnel is opening; then the far pod accepts
    relay.close();
    const remote = new PassThrough();
    open(streamAcceptor(remote));
    await until(() => remote.destroyed);
    expect(replies).toEqual([]);
    port2.close();
  });

  it('is spliced to the guest when the guest is still there', async () => {
    const { port1, port2 } = new MessageChannel();
    const remote = new PassThrough();
    const relay = new NetRelay(port1, { listening: () => undefined, closed: () => undefined, connect: async () => streamAcceptor(remote) });
    relay.attach(new Int32Array(createControlBuffer()));
    const replies: Array<{ stream?: unknown }> = [];
    port2.on('message', (reply: { stream?: unknown }) => replies.push(reply));
    port2.postMessage({ id: 1, kind: 'connect', host: '10.42.1.5', port: 7000, localPort: 40000 });
    await until(() => replies.length === 1);
    expect(replies[0]!.stream).toBeDefined();
    expect(remote.destroyed).toBe(false);
    relay.close();
    // the run's end resets the connection it was handed, and the splice closes the remote stream
    await until(() => remote.destroyed);
    port2.close();
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
