// UDP with the real kubectl, control plane, embedded broker and the C examples (decision 054):
// the udp-echo Deployment runs on node-2 (127.0.0.3) behind udp-echo-svc (port 53/UDP ->
// containerPort "echo" 7001/UDP); udp-client pods ping it through the Service's DNS name from
// node-2 (same node, in memory) and from node-1 (over node-2's tunnel, then by relay through the
// control plane); egress out of the cluster
// is denied by default (access-denied) and reaches a dgram echo on a loopback address the agents'
// --allow-egress names.
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/types/pod.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const run = promisify(execFile);
const PODS = '/api/v1/namespaces/default/pods';
const PINGS = /^(\d+) pings of (\d+) bytes: p50 \d+ us p99 \d+ us, \d+ resent\n$/;

const echoYaml = readFileSync('wasm-examples/udp-echo/pod.yaml', 'utf8')
  .replace('    spec:\n      containers:', '    spec:\n      nodeSelector: { kubernetes.io/hostname: node-2 }\n      containers:');

const clientYaml = (name: string, node: string, args: string[]) => `
apiVersion: v1
kind: Pod
metadata: { name: ${name}, labels: { app: udp-client } }
spec:
  restartPolicy: Never
  nodeSelector: { kubernetes.io/hostname: ${node} }
  containers:
    - name: client
      image: examples/udp-client:latest
      args: ${JSON.stringify(args)}
`;

describe.skipIf(!hasTool('kubectl', 'UDP e2e'))('UDP between pods: same node, across nodes, egress', () => {
  let cluster: Cluster;
  let outside: Socket;
  const kubectl = (args: string[], input?: string) => {
    const child = run(TOOL_PATHS.kubectl, args, { env: { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 60_000 });
    if (input !== undefined) child.child.stdin!.end(input);
    return child.then((r) => r.stdout);
  };
  /** Runs a udp-client pod to its end: its phase and log. */
  const client = async (name: string, node: string, args: string[]) => {
    await kubectl(['apply', '-f', '-'], clientYaml(name, node, args));
    const done = await waitFor<Pod>(cluster.client, `${PODS}?fieldSelector=metadata.name%3D${name}`,
      (e) => e.object.status?.phase === 'Succeeded' || e.object.status?.phase === 'Failed', 240_000);
    return { phase: done.status?.phase, logs: await kubectl(['logs', name]) };
  };

  beforeAll(async () => {
    // a UDP echo outside the cluster, on a loopback address the agents allow (--allow-egress)
    outside = createSocket('udp4');
    outside.on('message', (message, remote) => outside.send(message, remote.port, remote.address));
    outside.bind(0, '127.0.0.4');
    await once(outside, 'listening');
    cluster = await startCluster({ agents: 2, loopbackNodeIPs: true, agentEgress: { allow: ['127.0.0.4/32'] } });
    await cluster.cp.registry.push('examples/udp-echo:latest', readFileSync('wasm-examples/udp-echo/udp-echo.wasm'));
    await cluster.cp.registry.push('examples/udp-client:latest', readFileSync('wasm-examples/udp-client/udp-client.wasm'));
    await kubectl(['apply', '-f', '-'], echoYaml);
    await waitFor<Pod>(cluster.client, `${PODS}?labelSelector=app%3Dudp-echo`,
      (e) => e.object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true, 240_000);
  }, 300_000);
  afterAll(async () => {
    await cluster?.stop();
    outside?.close();
  });

  it('echoes through the Service DNS name on the same node and from the other node over the tunnel', async () => {
    const same = await client('same-node', 'node-2', ['udp-echo-svc', '53', '50', '512']);
    expect(same.phase, same.logs).toBe('Succeeded');
    expect(PINGS.exec(same.logs)?.slice(1)).toEqual(['50', '512']);
    const across = await client('across', 'node-1', ['udp-echo-svc.default.svc.cluster.local', '53', '50', '512']);
    expect(across.phase, across.logs).toBe('Succeeded');
    expect(PINGS.exec(across.logs)?.slice(1)).toEqual(['50', '512']);
    expect(cluster.agents[0]!.mesh!.udp.counts.sent).toBeGreaterThanOrEqual(50);
  }, 600_000);

  it('echoes across nodes by relay through the control plane (--mesh relay) with the same semantics', async () => {
    const meshes = cluster.agents.map((agent) => agent.mesh!);
    const direct = meshes.map((mesh) => mesh.udp.counts.sent);
    for (const mesh of meshes) mesh.setMode('relay');
    try {
      const relayed = await client('relayed', 'node-1', ['udp-echo-svc.default.svc.cluster.local', '53', '50', '512']);
      expect(relayed.phase, relayed.logs).toBe('Succeeded');
      expect(PINGS.exec(relayed.logs)?.slice(1)).toEqual(['50', '512']);
      // both ways went by relay: node-1's pings and node-2's answers, none over a tunnel
      expect(meshes.map((mesh) => mesh.udpRelay!.counts.sent >= 50)).toEqual([true, true]);
      expect(meshes.map((mesh) => mesh.udp.counts.sent)).toEqual(direct);
    } finally {
      for (const mesh of meshes) mesh.setMode('auto');
    }
  }, 300_000);

  it('goes out of the cluster only where --allow-egress says so', async () => {
    const port = String((outside.address() as AddressInfo).port);
    const allowed = await client('egress-allowed', 'node-1', ['127.0.0.4', port, '5', '64']);
    expect(allowed.phase, allowed.logs).toBe('Succeeded');
    const denied = await client('egress-denied', 'node-1', ['192.0.2.7', port, '1']);
    expect(denied.phase).toBe('Failed');
    expect(denied.logs).toBe(`udp-client: send 192.0.2.7:${port} failed: access-denied\n`);
  }, 300_000);
});
