// On-demand peers beyond 1,000 nodes (decision 043), with the real control plane, embedded broker,
// two real agents and http-fetch guests, and 1,000 simulated Nodes in the store (pod CIDRs, no
// agents): the cluster has 1,002 nodes, so the peers part holds only the nodes that run Service
// endpoints, and node-1 does not have node-2 as a peer. A frontend on node-1 fetching a pod of
// node-2 by its pod IP (no Service behind it) makes node-1 ask the control plane whose pod IP that
// is (GET /skiff/v1/peers?ip=), then the request goes through node-2's tunnel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { resourceTypes } from '../../control-plane/resources/resource-types.js';
import { waitFor as poll } from '../mqtt/wait-for.js';
import { hasTool } from '../support/tools.js';
import { startCluster, type Cluster } from './cluster-harness.js';
import { answer, E2E_PROBE_TIMEOUT_SECONDS, freePort } from './http-answers.js';

const SIMULATED = 1_000;

const web = `
apiVersion: v1
kind: Pod
metadata: { name: web, labels: { app: web } }
spec:
  nodeSelector: { kubernetes.io/hostname: node-2 }
  containers:
    - name: web
      image: examples/http-fetch:latest
      env: [{ name: REPLY, value: web-on-node-2 }]
      ports: [{ name: http, containerPort: 8080 }]
      readinessProbe: { httpGet: { path: /healthz, port: http }, periodSeconds: 1, timeoutSeconds: ${E2E_PROBE_TIMEOUT_SECONDS} }
`;
const frontend = (target: string, port: number) => `
apiVersion: v1
kind: Pod
metadata: { name: frontend }
spec:
  nodeSelector: { kubernetes.io/hostname: node-1 }
  containers:
    - name: frontend
      image: examples/http-fetch:latest
      env: [{ name: TARGET_URL, value: "${target}" }, { name: APPEND_PATH, value: "1" }]
      ports: [{ containerPort: 8081, hostPort: ${port} }]
`;

describe.skipIf(!hasTool('kubectl', 'on-demand peers e2e'))('on-demand peers beyond 1,000 nodes', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    // a /13 of /24 blocks: 2,048 nodes fit
    cluster = await startCluster({ agents: 2, loopbackNodeIPs: true, examples: ['http-fetch'], podCidrs: { clusterCidr: '10.40.0.0/13', nodeCidrMaskSize: 24 } });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('reaches a pod of a node outside the peers part by its pod IP, through that node\'s tunnel', async () => {
    const [agentA, agentB] = cluster.agents as [typeof cluster.agents[0], typeof cluster.agents[0]];
    // 1,000 simulated Nodes, blocks 10.40.10.0/24 onwards (the agents have the first ones)
    const resources = cluster.cp.resources;
    for (let batch = 0; batch < SIMULATED; batch += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, k) => {
        const i = batch + k + 10;
        return resources.create<Node>(resourceTypes.nodes, {
          apiVersion: 'v1', kind: 'Node', metadata: { name: `sim-${i}` },
          spec: { podCIDR: `10.${40 + (i >> 8)}.${i & 255}.0/24` },
          status: { addresses: [{ type: 'InternalIP', address: '192.0.2.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 10250 } } },
        });
      }));
    }
    const nodes = (await resources.list<Node>(resourceTypes.nodes)).items;
    expect(nodes.length).toBe(SIMULATED + 2);
    // beyond 1,000 nodes and with no Service endpoints, node-1's peers part is empty: node-2 is not a peer
    await poll('node-1 without peers', () => (agentA.network.peers.peers.length === 0 ? true : undefined), { timeoutMs: 60_000, intervalMs: 200 });

    await cluster.kubectlOk(['apply', '-f', '-'], web);
    const webPod = await poll('web running with a pod IP', async () => {
      const pod = await resources.get<Pod>(resourceTypes.pods, 'default', 'web');
      return pod?.status?.podIP && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? pod : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    const podIP = webPod.status!.podIP!;
    const node2 = nodes.find((n) => n.metadata.name === 'node-2')!;
    expect(podIP.startsWith(node2.spec!.podCIDR!.replace(/0\/24$/, ''))).toBe(true);

    const port = await freePort('127.0.0.2');
    await cluster.kubectlOk(['apply', '-f', '-'], frontend(`http://${podIP}:8080`, port));
    const url = `http://127.0.0.2:${port}/hello`;
    const first = await answer(url, (status) => status === 200, 240_000);
    expect(first.body).toMatch(new RegExp(`^fetched http://${podIP.replace(/\./g, '\\.')}:8080/hello: 200 web-on-node-2 /hello`));
    // node-2 is still no peer of node-1: it was looked up, once for its block, and reached directly
    expect(agentA.network.peers.byNode('node-2')).toBeUndefined();
    expect(agentA.network.knownOwner(podIP)).toMatchObject({ node: 'node-2', port: agentB.mesh!.port });
    const asked = agentA.mesh!.lookup!.asked;
    expect(asked).toBeGreaterThanOrEqual(1);
    expect(agentA.mesh!.sent.direct).toBeGreaterThan(0);
    await answer(url, (status) => status === 200);
    expect(agentA.mesh!.lookup!.asked).toBe(asked); // cached
  }, 400_000);
});
