// `kubectl port-forward` to a raw TCP guest listener (the tcp-echo example, wasi:sockets): the
// real kubectl, control plane and agent; a node:net client on 127.0.0.1 sends 2 MiB, reads every
// byte back in order, half-closes and gets the end of stream after the echo server's own FIN.
// And the examples' YAML applied with kubectl: a tcp-client Job echoes 8 MiB through `echo-svc`
// to the tcp-echo Deployment, guest to guest through the agent's node network.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/types/pod.js';
import { spawnKubectl, type SpawnedKubectl } from '../support/spawned-kubectl.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const run = promisify(execFile);
const PODS = '/api/v1/namespaces/default/pods';
const byName = (name: string) => `${PODS}?fieldSelector=metadata.name%3D${name}`;

/** Sends `payload` on a new connection to 127.0.0.1:`port`, half-closes, and collects everything until the end. */
function echoOver(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
    socket.setTimeout(90_000, () => socket.destroy(new Error('no end of stream in time')));
    socket.end(payload);
  });
}

describe.skipIf(!hasTool('kubectl', 'kubectl port-forward TCP e2e'))('kubectl port-forward to a raw TCP listener', () => {
  let cluster: Cluster;
  const sessions: SpawnedKubectl[] = [];

  beforeAll(async () => {
    cluster = await startCluster();
    await cluster.cp.registry.push('examples/tcp-echo:latest', readFileSync('wasm-examples/tcp-echo/tcp-echo.wasm'));
    await cluster.cp.registry.push('examples/tcp-client:latest', readFileSync('wasm-examples/tcp-client/tcp-client.wasm'));
    const pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'echo' },
      spec: {
        containers: [{
          name: 'echo', image: 'examples/tcp-echo:latest', env: [{ name: 'PORT', value: '7000' }], ports: [{ containerPort: 7000 }],
          readinessProbe: { tcpSocket: { port: 7000 }, periodSeconds: 1 },
        }],
      },
    };
    expect((await cluster.client.request('POST', PODS, pod)).status).toBe(201);
    await waitFor<Pod>(cluster.client, byName('echo'), (e) => e.object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true, 120_000);
  }, 180_000);
  afterAll(async () => {
    for (const s of sessions) s.child.kill('SIGINT');
    await Promise.all(sessions.map((s) => s.exited));
    await cluster?.stop();
  });

  for (const [transport, env] of [['the WebSocket tunnel', {}], ['SPDY', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }]] as const) {
    it(`echoes bytes in order over ${transport}, then ends`, async () => {
      const session = spawnKubectl(cluster.cp.kubeconfigPath, ['port-forward', '--address', '127.0.0.1', 'pod/echo', ':7000'], env);
      sessions.push(session);
      await session.printed('-> 7000');
      const port = Number(/Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(session.stdout())?.[1]);
      const payload = Buffer.alloc(2 << 20);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >> 12)) & 0xff;
      const echoed = await echoOver(port, payload);
      expect(echoed.length).toBe(payload.length);
      expect(echoed.equals(payload)).toBe(true);
      // the echo server served it and takes the next connection
      expect((await echoOver(port, Buffer.from('again'))).toString()).toBe('again');
    }, 180_000);
  }

  it('runs the tcp-client Job against the tcp-echo Deployment through echo-svc (the examples\' YAML)', async () => {
    const kubectl = async (args: string[]) => (await run(TOOL_PATHS.kubectl, args, { env: { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 60_000 })).stdout;
    await kubectl(['apply', '-f', 'wasm-examples/tcp-echo/pod.yaml']);
    await waitFor<Pod>(cluster.client, `${PODS}?labelSelector=app%3Dtcp-echo`, (e) => e.object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true, 120_000);
    await kubectl(['apply', '-f', 'wasm-examples/tcp-client/pod.yaml']);
    const done = await waitFor<Pod>(cluster.client, `${PODS}?labelSelector=job-name%3Dtcp-client`,
      (e) => e.object.status?.phase === 'Succeeded' || e.object.status?.phase === 'Failed', 180_000);
    const logs = await kubectl(['logs', done.metadata.name!]);
    expect(done.status?.phase, logs).toBe('Succeeded');
    expect(logs).toMatch(/^echoed 8388608 bytes in [\d.]+ ms \([\d.]+ MB\/s\), 200 pings p50 \d+ us p99 \d+ us\n$/);
  }, 300_000);
});
