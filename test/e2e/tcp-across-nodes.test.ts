// Raw TCP across agents with the real kubectl, control plane, embedded broker and the C examples
// (decisions 037, 038): the tcp-echo Deployment runs on node-2 (127.0.0.3), tcp-client pods on
// node-1 (127.0.0.2) echo 8 MiB through echo-svc, checked byte by byte by the guest, directly over
// node-2's tunnel and by relay through the control plane; a NodePort on node-1 reaches the echo on
// node-2 as raw TCP (half-close, every byte back); a NetworkPolicy on node-2 refuses node-1's
// pods; egress out of the cluster is denied by default (access-denied) and reaches a loopback
// server the agents' --allow-egress names; connections opened before the broker restarts keep
// flowing while it is down and after, and new ones open while it is down (retained Services).
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/types/pod.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const run = promisify(execFile);
const PODS = '/api/v1/namespaces/default/pods';
const ECHOED = /^echoed (\d+) bytes in [\d.]+ ms \([\d.]+ MB\/s\)/;

const echoYaml = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: tcp-echo }
spec:
  replicas: 1
  selector: { matchLabels: { app: tcp-echo } }
  template:
    metadata: { labels: { app: tcp-echo } }
    spec:
      nodeSelector: { kubernetes.io/hostname: node-2 }
      containers:
        - name: echo
          image: examples/tcp-echo:latest
          env: [{ name: PORT, value: "7000" }]
          ports: [{ name: echo, containerPort: 7000 }]
          readinessProbe: { tcpSocket: { port: echo }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: echo-svc }
spec:
  type: NodePort
  selector: { app: tcp-echo }
  ports: [{ name: echo, port: 7000, targetPort: echo }]
`;

const clientYaml = (name: string, args: string[]) => `
apiVersion: v1
kind: Pod
metadata: { name: ${name}, labels: { app: tcp-client } }
spec:
  restartPolicy: Never
  nodeSelector: { kubernetes.io/hostname: node-1 }
  containers:
    - name: client
      image: examples/tcp-client:latest
      args: ${JSON.stringify(args)}
`;

/** Sends `payload` to host:port, half-closes, and collects everything until the end. */
function echoOver(host: string, port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
    socket.setTimeout(90_000, () => socket.destroy(new Error('no end of stream in time')));
    socket.end(payload);
  });
}

/** A connection kept open: `exchange` writes and waits for as many bytes back. */
async function echoConnection(host: string, port: number): Promise<{ socket: Socket; exchange(payload: Buffer): Promise<Buffer> }> {
  const socket = connect({ host, port, allowHalfOpen: true });
  await once(socket, 'connect');
  let received = Buffer.alloc(0);
  let waiting: { bytes: number; resolve(b: Buffer): void; reject(e: Error): void } | undefined;
  const check = () => {
    if (waiting && received.length >= waiting.bytes) {
      const got = received.subarray(0, waiting.bytes);
      received = received.subarray(waiting.bytes);
      const w = waiting;
      waiting = undefined;
      w.resolve(got);
    }
  };
  socket.on('data', (chunk: Buffer) => { received = Buffer.concat([received, chunk]); check(); });
  const failed = (error: Error) => waiting?.reject(error);
  socket.on('error', failed);
  socket.on('close', () => failed(new Error('connection closed')));
  return {
    socket,
    exchange: (payload) => new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no echo of ${payload.length} bytes in time`)), 60_000);
      waiting = { bytes: payload.length, resolve: (b) => { clearTimeout(timer); resolve(b); }, reject: (e) => { clearTimeout(timer); reject(e); } };
      socket.write(payload);
      check();
    }),
  };
}

const patterned = (size: number, seed: number) => {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * seed + (i >> 10)) & 0xff;
  return b;
};

describe.skipIf(!hasTool('kubectl', 'TCP across nodes e2e'))('raw TCP across agents: tunnel, relay, NodePort, policy, egress', () => {
  let cluster: Cluster;
  let outside: Server;
  const kubectl = (args: string[], input?: string) => {
    const child = run(TOOL_PATHS.kubectl, args, { env: { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 60_000 });
    if (input !== undefined) child.child.stdin!.end(input);
    return child.then((r) => r.stdout);
  };
  /** Runs a tcp-client pod on node-1 to its end: its phase and log. */
  const client = async (name: string, args: string[]) => {
    await kubectl(['apply', '-f', '-'], clientYaml(name, args));
    const done = await waitFor<Pod>(cluster.client, `${PODS}?fieldSelector=metadata.name%3D${name}`,
      (e) => e.object.status?.phase === 'Succeeded' || e.object.status?.phase === 'Failed', 240_000);
    return { phase: done.status?.phase, logs: await kubectl(['logs', name]) };
  };

  beforeAll(async () => {
    // an echo server outside the cluster, on a loopback address the agents allow (--allow-egress)
    outside = createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket)).listen(0, '127.0.0.4');
    await once(outside, 'listening');
    cluster = await startCluster({ agents: 2, loopbackNodeIPs: true, agentEgress: { allow: ['127.0.0.4/32'] } });
    await cluster.cp.registry.push('examples/tcp-echo:latest', readFileSync('wasm-examples/tcp-echo/tcp-echo.wasm'));
    await cluster.cp.registry.push('examples/tcp-client:latest', readFileSync('wasm-examples/tcp-client/tcp-client.wasm'));
    await kubectl(['apply', '-f', '-'], echoYaml);
    await waitFor<Pod>(cluster.client, `${PODS}?labelSelector=app%3Dtcp-echo`,
      (e) => e.object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true, 240_000);
  }, 300_000);
  afterAll(async () => {
    await cluster?.stop();
    outside?.close();
  });

  it('echoes 8 MiB from a guest on node-1 to the echo on node-2 over the tunnel, then by relay', async () => {
    const mesh = cluster.agents[0]!.mesh!;
    const direct = await client('direct', ['echo-svc', '7000', '8388608', '50']);
    expect(direct.phase, direct.logs).toBe('Succeeded');
    expect(ECHOED.exec(direct.logs)?.[1]).toBe('8388608');
    expect(mesh.streams.direct).toBeGreaterThan(0);
    expect(mesh.streams.relay).toBe(0);

    mesh.setMode('relay');
    try {
      const relayed = await client('relayed', ['echo-svc', '7000', '8388608', '50']);
      expect(relayed.phase, relayed.logs).toBe('Succeeded');
      expect(ECHOED.exec(relayed.logs)?.[1]).toBe('8388608');
      expect(mesh.streams.relay).toBeGreaterThan(0);
    } finally {
      mesh.setMode('auto');
    }
  }, 600_000);

  it('reaches the echo on node-2 through a NodePort of node-1 as raw TCP', async () => {
    const service = JSON.parse(await kubectl(['get', 'service', 'echo-svc', '-o', 'json'])) as { spec: { ports: Array<{ nodePort: number }> } };
    const nodePort = service.spec.ports[0]!.nodePort;
    const payload = Buffer.alloc(1 << 20);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >> 12)) & 0xff;
    const before = cluster.agents[0]!.mesh!.streams.direct;
    let echoed: Buffer = Buffer.alloc(0);
    // the agent opens the port once its desired state has the Service
    for (let attempt = 0; attempt < 120 && echoed.length === 0; attempt++) {
      echoed = await echoOver('127.0.0.2', nodePort, payload).catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 250));
        return Buffer.alloc(0);
      });
    }
    expect(echoed.length).toBe(payload.length);
    expect(echoed.equals(payload)).toBe(true);
    expect(cluster.agents[0]!.mesh!.streams.direct).toBeGreaterThan(before);
  }, 120_000);

  it('keeps connections across nodes flowing while the broker restarts, and opens new ones while it is down', async () => {
    const nodePortOf = async (name: string) => (JSON.parse(await kubectl(['get', 'service', name, '-o', 'json'])) as { spec: { ports: Array<{ nodePort: number }> } }).spec.ports[0]!.nodePort;
    // a second echo on node-2 for the connections opened while the broker is down (one echo serves one connection at a time)
    await kubectl(['apply', '-f', '-'], echoYaml.replaceAll('tcp-echo', 'tcp-echo-b').replaceAll('echo-svc', 'echo-b-svc').replaceAll('examples/tcp-echo-b', 'examples/tcp-echo'));
    const mesh = cluster.agents[0]!.mesh!;
    const untilEchoed = async (port: number) => {
      // node-1 opens the port and learns the endpoint with its next desired state
      const probe = Buffer.from('ready?');
      for (let attempt = 0; attempt < 480; attempt++) {
        const got = await echoOver('127.0.0.2', port, probe).catch(() => Buffer.alloc(0));
        if (got.equals(probe)) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      throw new Error(`nothing echoed through node port ${port}`);
    };
    const [echoPort, echoBPort] = [await nodePortOf('echo-svc'), await nodePortOf('echo-b-svc')];
    await untilEchoed(echoPort);
    await untilEchoed(echoBPort);
    // a client's connection through node-1's NodePort to the echo on node-2 (node-2's tunnel), open before the broker goes
    const kept = await echoConnection('127.0.0.2', echoPort);
    const first = patterned(65536, 7);
    expect((await kept.exchange(first)).equals(first)).toBe(true);

    const broker = new URL(cluster.cp.mqttUrl);
    await cluster.cp.restartBroker!(async () => {
      const refused = await new Promise<string>((resolve) => {
        const probe = connect({ host: broker.hostname, port: Number(broker.port) });
        probe.on('connect', () => { probe.destroy(); resolve('connected'); });
        probe.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
      expect(refused).toBe('ECONNREFUSED');
      // the open connection keeps flowing
      const during = patterned(262144, 13);
      expect((await kept.exchange(during)).equals(during)).toBe(true);
      // a new one opens: node-1 still has echo-b-svc's endpoints and node-2's tunnel from its last desired state
      const before = mesh.streams.direct;
      const fresh = patterned(1 << 20, 29);
      expect((await echoOver('127.0.0.2', echoBPort, fresh)).equals(fresh)).toBe(true);
      expect(mesh.streams.direct).toBe(before + 1);
    });
    const after = patterned(65536, 31);
    expect((await kept.exchange(after)).equals(after)).toBe(true);
    kept.socket.end();
    await once(kept.socket, 'end');
    // and new ones once it is back
    const again = patterned(65536, 37);
    expect((await echoOver('127.0.0.2', echoBPort, again)).equals(again)).toBe(true);
    await kubectl(['delete', 'deployment', 'tcp-echo-b']);
  }, 600_000);

  it('goes out of the cluster only where --allow-egress says so', async () => {
    const port = String((outside.address() as AddressInfo).port);
    const allowed = await client('egress-allowed', ['127.0.0.4', port, '65536']);
    expect(allowed.phase, allowed.logs).toBe('Succeeded');
    expect(ECHOED.exec(allowed.logs)?.[1]).toBe('65536');
    const denied = await client('egress-denied', ['192.0.2.7', port, '1']);
    expect(denied.phase).toBe('Failed');
    expect(denied.logs).toBe(`tcp-client: connect 192.0.2.7:${port} failed: access-denied\n`);
  }, 300_000);

  it('is refused across nodes once a NetworkPolicy on node-2 denies ingress to the echo', async () => {
    await kubectl(['apply', '-f', '-'], `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: deny-echo }
spec:
  podSelector: { matchLabels: { app: tcp-echo } }
  policyTypes: [Ingress]
`);
    // the policy reaches node-2 with its next desired state: until then a client may still connect
    let last = { phase: undefined as string | undefined, logs: '' };
    for (let attempt = 0; attempt < 10; attempt++) {
      last = await client(`denied-${attempt}`, ['echo-svc', '7000', '1']);
      if (last.phase === 'Failed') break;
    }
    expect(last.phase).toBe('Failed');
    expect(last.logs).toBe('tcp-client: connect echo-svc:7000 failed: connection-refused\n');
  }, 600_000);
});
