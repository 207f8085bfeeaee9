// Pods across agents, with the real kubectl, control plane, embedded broker and the http-fetch
// example: a frontend on node-1 (127.0.0.2) fetches http://web-svc/ whose only backend runs on
// node-2 (127.0.0.3). The request goes through node-2's tunnel (mutual TLS with the node
// certificates the control plane issued); by relay through the control plane when node-1 is told
// to, or when node-2's tunnel cannot be reached; and directly still once the control plane and its
// broker are gone (the Services and peers node-1 keeps from its last desired state).
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '../../api/types/node.js';
import { waitFor as poll } from '../mqtt/wait-for.js';
import { hasTool } from '../support/tools.js';
import { startCluster, type Cluster } from './cluster-harness.js';
import { answer, E2E_PROBE_TIMEOUT_SECONDS, freePort } from './http-answers.js';

const yaml = (port: number) => `
apiVersion: v1
kind: Service
metadata: { name: web-svc }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      nodeSelector: { kubernetes.io/hostname: node-2 }
      containers:
        - name: web
          image: examples/http-fetch:latest
          env: [{ name: REPLY, valueFrom: { fieldRef: { fieldPath: metadata.name } } }]
          ports: [{ name: http, containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /healthz, port: http }, periodSeconds: 1, timeoutSeconds: ${E2E_PROBE_TIMEOUT_SECONDS} }
---
apiVersion: v1
kind: Pod
metadata: { name: frontend }
spec:
  nodeSelector: { kubernetes.io/hostname: node-1 }
  containers:
    - name: frontend
      image: examples/http-fetch:latest
      env: [{ name: TARGET_URL, value: "http://web-svc" }, { name: APPEND_PATH, value: "1" }]
      ports: [{ containerPort: 8081, hostPort: ${port} }]
`;

describe.skipIf(!hasTool('kubectl', 'mesh e2e'))('pods across agents: tunnel, relay, autonomy', () => {
  let cluster: Cluster;
  let url: string;
  const kubectl = (args: string[], input?: string) => cluster.kubectlOk(args, input);

  beforeAll(async () => {
    cluster = await startCluster({ agents: 2, loopbackNodeIPs: true, examples: ['http-fetch'] });
    url = `http://127.0.0.2:${await freePort('127.0.0.2')}/hello`;
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('carries frontend (node-1) -> web-svc -> backend (node-2) through node-2\'s tunnel', async () => {
    const port = Number(new URL(url).port);
    await kubectl(['apply', '-f', '-'], yaml(port));
    // each node reports its tunnel, on its own node IP
    const nodes = await poll('tunnels reported', async () => {
      const list = JSON.parse(await kubectl(['get', 'nodes', '-o', 'json'])) as { items: Node[] };
      return list.items.every((n) => (n.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0) > 0) && list.items.length === 2 ? list.items : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    expect(nodes.map((n) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address).sort()).toEqual(['127.0.0.2', '127.0.0.3']);
    const [agentA, agentB] = cluster.agents as [typeof cluster.agents[0], typeof cluster.agents[0]];
    expect(agentB.mesh?.port).toBe(nodes.find((n) => n.metadata.name === 'node-2')!.status!.daemonEndpoints!.kubeletEndpoint!.Port);
    // node certificates in the agents' data dirs: CN system:node:NAME, the node IP as SAN
    const stored = JSON.parse(readFileSync(join(cluster.dataDir, 'agents', 'node-2', 'node-tls.json'), 'utf8')) as { cert: string };
    const cert = new X509Certificate(stored.cert);
    expect(cert.subject).toContain('CN=system:node:node-2');
    expect(cert.checkIP('127.0.0.3')).toBe('127.0.0.3');

    const first = await answer(url, (status) => status === 200, 240_000);
    expect(first.body).toMatch(/^fetched http:\/\/web-svc\/hello: 200 web-[a-z0-9]+-[a-z0-9]+ \/hello\n\n$/);
    expect(agentA.mesh!.sent.direct).toBeGreaterThan(0);
    expect(agentA.mesh!.sent.relay).toBe(0);
  }, 360_000);

  it('goes by relay through the control plane when told to, and when node-2\'s tunnel cannot be reached', async () => {
    const [agentA] = cluster.agents as [typeof cluster.agents[0]];
    const mesh = agentA.mesh!;
    mesh.setMode('relay');
    const direct = mesh.sent.direct;
    expect((await answer(url, (status) => status === 200)).body).toMatch(/: 200 web-\S+ \/hello/);
    expect(mesh.sent.relay).toBeGreaterThan(0);
    expect(mesh.sent.direct).toBe(direct);

    // node-2's reported tunnel is not reachable from node-1 (as behind a NAT): refused, then relay
    mesh.setMode('auto');
    const peers = agentA.network.peers.peers;
    const closed = await freePort('127.0.0.3');
    agentA.network.setPeers(peers.map((p) => (p.node === 'node-2' ? { ...p, port: closed } : p)));
    const relayed = mesh.sent.relay;
    expect((await answer(url, (status) => status === 200)).body).toMatch(/: 200 web-\S+ \/hello/);
    expect(mesh.sent.relay).toBeGreaterThan(relayed);
    agentA.network.setPeers(peers);
  }, 120_000);

  it('keeps reaching node-2 directly once the control plane and its broker are gone', async () => {
    const [agentA] = cluster.agents as [typeof cluster.agents[0]];
    await cluster.cp.stop();
    const direct = agentA.mesh!.sent.direct;
    for (let i = 0; i < 3; i++) {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(await response.text()).toMatch(/^fetched http:\/\/web-svc\/hello: 200 web-\S+ \/hello/);
    }
    expect(agentA.mesh!.sent.direct).toBe(direct + 3);
  }, 60_000);
});
