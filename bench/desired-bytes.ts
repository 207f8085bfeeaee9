// Desired-state bytes per change: N nodes with P pods each behind the real DesiredPublisher (over an
// in-memory SQLite store, the channel counting what it would send); then one pod's image changes,
// one pod is deleted, and one Service is created. Prints, per change, how many nodes were
// republished and how many bytes went out.
// Usage: node dist/bench/desired-bytes.js [nodes=100] [podsPerNode=20]. Prints JSON.
import pino from 'pino';
import type { DesiredStateMessage } from '../api/mqtt/messages.js';
import type { Node } from '../api/types/node.js';
import type { Pod } from '../api/types/pod.js';
import type { NodeChannel } from '../control-plane/node-channel/node-channel.js';
import { DesiredPublisher } from '../control-plane/nodes/desired-publisher.js';
import { ComponentRegistry } from '../control-plane/registry/component-registry.js';
import { ImageResolver } from '../control-plane/registry/image-resolver.js';
import { ensureInitialNamespaces } from '../control-plane/resources/initial-namespaces.js';
import { ResourceStore } from '../control-plane/resources/resource-store.js';
import { resourceTypes } from '../control-plane/resources/resource-types.js';
import { openSqliteStore } from '../control-plane/store/sqlite/sqlite-store.js';
import { openWatchCache } from '../control-plane/store/watch-cache/watch-cache.js';
import { systemClock } from '../api/clock.js';

const nodes = Number(process.argv[2] ?? 100);
const podsPerNode = Number(process.argv[3] ?? 20);
const logger = pino({ level: 'silent' });
const store = await openWatchCache(await openSqliteStore({ path: ':memory:', compactIntervalMs: 0 }));
const resources = new ResourceStore(store);
await ensureInitialNamespaces(resources);
let sent: DesiredStateMessage[] = [];
const channel: NodeChannel = {
  start: async () => {}, stop: async () => {}, call: async () => undefined,
  publishDesired: async (m) => { sent.push(m); },
};
const pod = (name: string, node: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'bench' } },
  spec: { nodeName: node, containers: [{ name: 'main', image: 'registry.local/app:1.0' }] },
});
for (let n = 0; n < nodes; n++) {
  await resources.create<Node>(resourceTypes.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: `n${n}` }, spec: {} } as Node);
  for (let p = 0; p < podsPerNode; p++) await resources.create(resourceTypes.pods, pod(`p-${n}-${p}`, `n${n}`));
}
const registry = new ComponentRegistry(store, '/nonexistent');
const publisher = new DesiredPublisher({
  resources, channel, registry, images: new ImageResolver({ registry, resources, registryUrl: 'https://cp' }),
  cpEpoch: 'bench', clock: systemClock, logger,
});
await publisher.start();
await publisher.idle();
const initialBytes = sent.reduce((n, m) => n + Buffer.byteLength(JSON.stringify(m)), 0);

async function measure(what: string, change: () => Promise<unknown>) {
  sent = [];
  await change();
  for (let i = 0; i < 50; i++) { // the change's events reach the publisher, which then goes idle
    await new Promise((r) => setImmediate(r));
    await publisher.idle();
  }
  const bytes = sent.map((m) => Buffer.byteLength(JSON.stringify(m)));
  return { change: what, nodesRepublished: new Set(sent.map((m) => m.node)).size, messages: sent.length, bytes: bytes.reduce((a, b) => a + b, 0), maxMessageBytes: Math.max(0, ...bytes) };
}

const changes = [
  await measure('one pod status only (Running)', () => resources.mutate<Pod>(resourceTypes.pods, 'default', 'p-0-0', (p) => ({ ...p, status: { phase: 'Running' } }), { subresource: 'status' })),
  await measure('one pod deleted', () => resources.delete(resourceTypes.pods, 'default', 'p-1-0', { gracePeriodSeconds: 0 })),
  await measure('one pod created on a node', () => resources.create(resourceTypes.pods, pod('extra', 'n2'))),
  await measure('one Service created (every node routes to it)', () => resources.create(resourceTypes.services, {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'bench' }, ports: [{ port: 80 }] },
  })),
];
publisher.stop();
await store.close();
console.log(JSON.stringify({ nodes, podsPerNode, initialPublishBytes: initialBytes, perNodeBytes: Math.round(initialBytes / nodes), changes }, null, 2));
