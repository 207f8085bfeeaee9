// wasi:sockets TCP byte streams between real guests (the tcp-echo and tcp-client examples, C)
// through WasmPodRuntime: connect is routed by the pod network (PodNetworkPorts.connect, here a
// small fake that knows one pod's listeners) to the listener's acceptor; the bytes move through
// shared ring buffers between the two guests' workers. Also the main thread's end (RingDuplex).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { connectDuplex } from '../../runtime/net/ring-duplex.js';
import { createConnectionBuffer, RingEndpoint, type StreamAcceptor } from '../../runtime/net/byte-ring.js';
import { MAX_CONNECTIONS_PER_RUN, NetRelay } from '../../runtime/net/net-relay.js';
import { createControlBuffer } from '../../runtime/worker/guest-messages.js';
import { PodNetworkError, type PodNetworkPorts } from '../../runtime/pod-runtime.js';
import { WasmPodRuntime } from '../../runtime/wasm-pod-runtime.js';
import { exampleBytes } from '../contracts/runtime.contract.js';
import { startComponent } from './support/run-components.js';

/** One pod's network: its listeners by port, reachable on 127.0.0.1 and the pod IP 10.42.0.7. */
function fakePod() {
  const listeners = new Map<number, StreamAcceptor>();
  const connects: Array<{ host: string; port: number }> = [];
  const network: PodNetworkPorts = {
    listening: (port, _protocol, accept) => {
      if (accept) listeners.set(port, accept);
    },
    closed: (port) => void listeners.delete(port),
    resolve: async (name) => {
      if (name === 'echo-svc') return ['10.42.0.7'];
      throw new PodNetworkError('DNS-error', `lookup ${name}: no such host`);
    },
    connect: async (host, port) => {
      connects.push({ host, port });
      const accept = host === '127.0.0.1' || host === '10.42.0.7' ? listeners.get(port) : undefined;
      if (!accept) throw new PodNetworkError('connection-refused', `dial tcp ${host}:${port}: connect: connection refused`);
      return accept;
    },
  };
  return { network, listeners, connects };
}

describe('wasi:sockets TCP streams', () => {
  let runtime: WasmPodRuntime;
  beforeAll(() => {
    runtime = new WasmPodRuntime({ warmWorkers: 2 });
  });
  afterAll(async () => {
    await runtime.close();
  });

  it('echoes 8 MiB between two guests in order, with backpressure, then both sides see the end', async () => {
    const pod = fakePod();
    const echo = await startComponent(runtime, exampleBytes('tcp-echo'), 'tcp-echo', { network: pod.network, env: [['PORT', '7000']] });
    await echo.printed('listening on 7000');
    const client = await startComponent(runtime, exampleBytes('tcp-client'), 'tcp-client', {
      network: pod.network, args: ['tcp-client', 'echo-svc', '7000', String(8 << 20), '200'],
    });
    const exit = await client.container.exited;
    expect(client.stderr()).toBe('');
    expect(exit.exitCode).toBe(0);
    expect(client.stdout()).toMatch(/^echoed 8388608 bytes in [\d.]+ ms \([\d.]+ MB\/s\), 200 pings p50 \d+ us p99 \d+ us\n$/);
    await echo.printed(`echoed ${(8 << 20) + 200 * 64} bytes`);
    expect(pod.connects).toEqual([{ host: '10.42.0.7', port: 7000 }]);
    // the server serves the next connection
    const again = await startComponent(runtime, exampleBytes('tcp-client'), 'tcp-client', { network: pod.network, args: ['tcp-client', '127.0.0.1', '7000', '1000'] });
    expect((await again.container.exited).exitCode).toBe(0);
    await echo.container.stop(5_000);
  }, 180_000);

  it('refuses a connect to a port nobody listens on', async () => {
    const pod = fakePod();
    const client = await startComponent(runtime, exampleBytes('tcp-client'), 'tcp-client', { network: pod.network, args: ['tcp-client', '127.0.0.1', '7001'] });
    expect((await client.container.exited).exitCode).toBe(1);
    expect(client.stderr()).toBe('tcp-client: connect 127.0.0.1:7001 failed: connection-refused\n');
  }, 60_000);

  it('denies connect without a pod network', async () => {
    const client = await startComponent(runtime, exampleBytes('tcp-client'), 'tcp-client', { args: ['tcp-client', '127.0.0.1', '7001'] });
    expect((await client.container.exited).exitCode).toBe(1);
    expect(client.stderr()).toBe('tcp-client: connect 127.0.0.1:7001 failed: access-denied\n');
  }, 60_000);

  it('carries bytes between the main thread and a guest; a stopped guest resets its connections', async () => {
    const pod = fakePod();
    const echo = await startComponent(runtime, exampleBytes('tcp-echo'), 'tcp-echo', { network: pod.network, env: [['PORT', '0']] });
    await echo.printed('listening on');
    const port = Number(/listening on (\d+)/.exec(echo.stdout())![1]);
    const stream = connectDuplex(pod.listeners.get(port)!)!;
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    const payload = Buffer.alloc(3 << 20, 7);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 13) & 0xff;
    stream.write(payload);
    await until(() => Buffer.concat(chunks).length >= payload.length);
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
    const reset = new Promise<NodeJS.ErrnoException>((resolve) => stream.once('error', resolve));
    await echo.container.stop(5_000);
    expect((await reset).code).toBe('ECONNRESET');
    expect(pod.listeners.has(port)).toBe(false);
  }, 120_000);
});

describe('the net relay', () => {
  it('refuses connections past MAX_CONNECTIONS_PER_RUN for one guest run, and resets them all when the run ends', () => {
    const { port1, port2 } = new MessageChannel();
    const relay = new NetRelay(port1, { listening: () => undefined, closed: () => undefined });
    relay.attach(new Int32Array(createControlBuffer()));
    const accept = relay.acceptor(7000);
    const peer = { buffer: new SharedArrayBuffer(4), index: 0 };
    const ends = Array.from({ length: MAX_CONNECTIONS_PER_RUN }, () => ({ buffer: createConnectionBuffer(16), side: 1 as const, peer }));
    for (const end of ends) expect(accept(end)).toBeDefined();
    expect(accept({ buffer: createConnectionBuffer(16), side: 1, peer })).toBeUndefined();
    // a finished connection makes room
    new RingEndpoint(ends[0]!).close();
    expect(accept({ buffer: createConnectionBuffer(16), side: 1, peer })).toBeDefined();
    relay.close();
    port2.close();
    expect(new RingEndpoint({ ...ends[1]!, side: 0 }).read(1)).toBe('reset');
  });
});

async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
