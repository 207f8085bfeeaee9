// Pod requests across agents (part of `npm run bench:network`): a real local cluster of two agents
// on 127.0.0.2 and 127.0.0.3 (control plane, embedded broker, node certificates), the http-health
// example on node-2, requests from node-1's pod network to its pod IP (c) directly through node-2's
// tunnel and (d) by relay through the control plane (HTTPS to the API server, then the node channel
// over MQTT). Returns latencies (ms) and requests/s for both.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Pod } from '../api/types/pod.js';
import type { HttpRequest, HttpResponse } from '../runtime/pod-runtime.js';
import { startLocalCluster } from '../cli/local-cluster.js';
import { resourceTypes } from '../control-plane/resources/resource-types.js';

type Measure = (name: string, call: () => Promise<HttpResponse>) => Promise<{ sequential: { p50: number; p99: number }; requestsPerSecond: number }>;

export async function acrossNodes(wasm: string, measure: Measure) {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-bench-mesh-'));
  const cluster = await startLocalCluster({ dataDir, logger: pino({ level: 'silent' }), agents: 2, apiPort: 0, mqttPort: 0, loopbackNodeIPs: true, warmWorkers: 1 });
  try {
    await cluster.cp.registry.push('examples/http-health:latest', await readFile(wasm));
    await cluster.cp.resources.create<Pod>(resourceTypes.pods, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' },
      spec: { nodeName: 'node-2', containers: [{ name: 'web', image: 'examples/http-health:latest', ports: [{ containerPort: 8080 }] }] },
    } as Pod);
    const deadline = Date.now() + 180_000;
    let podIP: string | undefined;
    for (;;) {
      const pod = await cluster.cp.resources.get<Pod>(resourceTypes.pods, 'default', 'web');
      if (pod.status?.phase === 'Running' && pod.status.podIP && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) {
        podIP = pod.status.podIP;
        break;
      }
      if (Date.now() > deadline) throw new Error('the backend pod did not become Ready');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const agent = cluster.agents[0]!;
    const mesh = agent.mesh!;
    const peer = await waitFor(() => agent.network.peers.owner(podIP!));
    const request: HttpRequest = { method: 'GET', pathWithQuery: '/', scheme: 'http', authority: `${podIP}:8080`, headers: [], body: new Uint8Array() };
    const call = () => mesh.request(peer, podIP!, 8080, request, 30_000);
    mesh.setMode('direct');
    const direct = await measure('(c) across nodes, direct (tunnel)', call);
    mesh.setMode('relay');
    const relay = await measure('(d) across nodes, by relay (control plane)', call);
    return { direct, relay, sent: { ...mesh.sent } };
  } finally {
    await cluster.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function waitFor<T>(get: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
