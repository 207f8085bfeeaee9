// Desired-state bytes per change: N nodes with P pods each behind the real DesiredPublisher (over an
// in-memory SQLite store, the channel counting what it would send); then one pod's image changes,
// one pod is deleted, and one Service is created; then 3 NetworkPolicies are created (each
// selecting the pods of a few nodes, peers by label) and pod changes are measured again. Prints,
// per change, how many nodes were reconciled (their pods listed, images resolved), how many nodes'
// pods messages were republished, which parts of the split desired state (decision 057: the
// cluster's Services and peers, nodes' policies) went out, how many bytes the control plane sent,
// and how many the broker delivers (a cluster-wide part reaches every node).
// Usage: node dist/bench/desired-bytes.js [nodes=100] [podsPerNode=20]. Prints JSON.
import pino from 'pino';
import type { DesiredStateMessage } from '../api/mqtt/messages.js';
import type { DesiredPartMessage } from '../api/mqtt/desired-parts.js';
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
let sentParts: DesiredPartMessage[] = [];
const channel: NodeChannel = {
  start: async () => {}, stop: async () => {}, call: async () => undefined,
  publishDesired: async (m) => { sent.push(m); },
  publishDesiredPart: async (m) => { sentParts.push(m); },
  clearRetained: async () => {}, retainedNodes: async () => new Set(),
};
// a node's desired state is read by listing its pods: count them per change
let reconciled = 0;
const list = resources.list.bind(resources);
resources.list = ((type, options) => {
  if (options?.fieldSelector?.startsWith('spec.nodeName=')) reconciled++;
  return list(type, options);
}) as typeof resources.list;
const pod = (name: string, node: string, labels: Record<string, string> = { app: 'bench' }): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels, annotations: { 'skiff.dev/pod-ip': podIP(name) } },
  spec: { nodeName: node, containers: [{ name: 'main', image: 'registry.local/app:1.0' }] },
});
function podIP(name: string): string {
  const [, n, p] = /^p-(\d+)-(\d+)$/.exec(name) ?? [undefined, '250', String(name.length)];
  return `10.42.${Number(n) + 1}.${Number(p) + 2}`;
}
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
const initialBytes = [...sent, ...sentParts].reduce((n, m) => n + Buffer.byteLength(JSON.stringify(m)), 0);

async function measure(what: string, change: () => Promise<unknown>) {
  sent = [];
  sentParts = [];
  reconciled = 0;
  await change();
  for (let i = 0; i < 50; i++) { // the change's events reach the publisher, which then goes idle
    await new Promise((r) => setImmediate(r));
    await publisher.idle();
  }
  const bytes = [...sent, ...sentParts].map((m) => Buffer.byteLength(JSON.stringify(m)));
  const parts = sentParts.map((p) => (p.part === 'policies' ? `policies/${p.node}` : p.part));
  return {
    change: what, nodesReconciled: reconciled, nodesRepublished: new Set(sent.map((m) => m.node)).size,
    partsPublished: parts.length, parts: [...new Set(parts.map((p) => p.replace(/\/.*/, '')))],
    messages: sent.length + sentParts.length, bytes: bytes.reduce((a, b) => a + b, 0), maxMessageBytes: Math.max(0, ...bytes),
    // what the broker hands on: a cluster-wide part goes to every node's agent, the rest to one
    deliveredBytes: [...sent, ...sentParts].reduce((n, m) => n + Buffer.byteLength(JSON.stringify(m)) * ('part' in m && m.part !== 'policies' ? nodes : 1), 0),
  };
}

const changes = [
  await measure('one pod status only (Running)', () => resources.mutate<Pod>(resourceTypes.pods, 'default', 'p-0-0', (p) => ({ ...p, status: { phase: 'Running' } }), { subresource: 'status' })),
  await measure('one pod deleted', () => resources.delete(resourceTypes.pods, 'default', 'p-1-0', { gracePeriodSeconds: 0 })),
  await measure('one pod created on a node', () => resources.create(resourceTypes.pods, pod('extra', 'n2'))),
  await measure('one Service created (every node routes to it)', () => resources.create(resourceTypes.services, {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'bench' }, ports: [{ port: 80 }] },
  })),
];
// 3 NetworkPolicies: each selects the pods of one role (on 3 nodes) and admits a client role
for (const [i, role] of ['db', 'cache', 'queue'].entries()) {
  for (let n = 3 * i; n < 3 * i + 3 && n < nodes; n++) {
    await resources.mutate<Pod>(resourceTypes.pods, 'default', `p-${n}-3`, (p) => ({ ...p, metadata: { ...p.metadata, labels: { app: 'bench', role } } }));
  }
}
const policyChanges = [
  await measure('3 NetworkPolicies created', async () => {
    for (const role of ['db', 'cache', 'queue']) {
      await resources.create(resourceTypes.networkpolicies, {
        apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `${role}-in`, namespace: 'default' },
        spec: { podSelector: { matchLabels: { role } }, ingress: [{ from: [{ podSelector: { matchLabels: { [`${role}-client`]: 'yes' } } }] }] },
      });
    }
  }),
  await measure('with 3 policies: one pod\'s image changed (no policy names it)', () => resources.mutate<Pod>(resourceTypes.pods, 'default', `p-${nodes - 1}-1`,
    (p) => ({ ...p, spec: { ...p.spec, containers: p.spec.containers.map((c) => ({ ...c, image: 'registry.local/app:2.0' })) } }))),
  await measure('with 3 policies: one pod deleted (no policy names it)', () => resources.delete(resourceTypes.pods, 'default', `p-${nodes - 1}-2`, { gracePeriodSeconds: 0 })),
  await measure('with 3 policies: one pod created, a peer of one policy', () => resources.create(resourceTypes.pods, pod('client', `n${nodes - 1}`, { app: 'bench', 'db-client': 'yes' }))),
];
publisher.stop();
await store.close();
console.log(JSON.stringify({ nodes, podsPerNode, initialPublishBytes: initialBytes, perNodeBytes: Math.round(initialBytes / nodes), changes, policyChanges }, null, 2));
