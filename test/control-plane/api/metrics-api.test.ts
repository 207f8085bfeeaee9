import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeMetricsMessage } from '../../../api/mqtt/messages.js';
import type { Pod } from '../../../api/types/pod.js';
import { NodeMetricsStore } from '../../../control-plane/metrics/node-metrics-store.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aNode } from '../../support/builders.js';
import { FakeClock } from '../../support/fake-clock.js';
import { openTestApi, type TestApi } from '../support/test-api.js';

const METRICS = '/apis/metrics.k8s.io/v1beta1';
let api: TestApi;
let store: NodeMetricsStore;
const uids: Record<string, string> = {};

beforeAll(async () => {
  store = new NodeMetricsStore(new FakeClock());
  api = await openTestApi({ metrics: store });
  await api.resources.create(resourceTypes.nodes, aNode('n1', { labels: { zone: 'a' } }));
  await api.resources.create(resourceTypes.nodes, aNode('n2'));
  for (const [name, app] of [['web-1', 'web'], ['db-1', 'db'], ['idle', 'web']] as const) {
    const pod = await api.resources.create<Pod>(resourceTypes.pods, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app } },
      spec: { containers: [{ name: 'main', image: 'examples/hello:latest' }] },
    });
    uids[name] = pod.metadata.uid!;
  }
  const message: NodeMetricsMessage = {
    v: 1, sessionId: 's', seq: 1, ts: 0, node: 'n1', windowMs: 15_000,
    usage: { cpuMillicores: 250.5, memoryBytes: 2 * 1024 * 1024 },
    pods: [
      { uid: uids['web-1']!, namespace: 'default', name: 'web-1', containers: [{ name: 'main', cpuMillicores: 200.5, memoryBytes: 131_072 }] },
      { uid: uids['db-1']!, namespace: 'default', name: 'db-1', containers: [{ name: 'main', cpuMillicores: 50 }] },
      { uid: 'uid-of-a-deleted-pod', namespace: 'default', name: 'gone', containers: [{ name: 'main', cpuMillicores: 1 }] },
    ],
  };
  store.record('n1', message);
});
afterAll(async () => { await api.close(); });

const get = async (path: string) => {
  const res = await api.call('GET', path);
  return { status: res.status, body: await res.json() as any };
};

describe('metrics.k8s.io API', () => {
  it('is discoverable the way kubectl top looks for it', async () => {
    const groups = (await get('/apis')).body as { groups: Array<{ name: string; preferredVersion: { groupVersion: string } }> };
    expect(groups.groups.find((g) => g.name === 'metrics.k8s.io')?.preferredVersion.groupVersion).toBe('metrics.k8s.io/v1beta1');
    const resources = (await get(METRICS)).body as { resources: Array<{ name: string; kind: string; namespaced: boolean }> };
    expect(resources.resources.map((r) => [r.name, r.kind, r.namespaced])).toEqual([['nodes', 'NodeMetrics', false], ['pods', 'PodMetrics', true]]);
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
    const aggregated = await (await api.call('GET', '/apis', { accept })).json() as { items: Array<{ metadata: { name: string }; versions: Array<{ version: string }> }> };
    expect(aggregated.items.find((i) => i.metadata.name === 'metrics.k8s.io')?.versions.map((v) => v.version)).toEqual(['v1beta1']);
  });

  it('serves NodeMetrics in metrics-server units for nodes that reported', async () => {
    const nodes = (await get(`${METRICS}/nodes`)).body;
    expect(nodes).toMatchObject({ kind: 'NodeMetricsList', apiVersion: 'metrics.k8s.io/v1beta1' });
    expect(nodes.items).toHaveLength(1);
    expect(nodes.items[0]).toMatchObject({
      kind: 'NodeMetrics', metadata: { name: 'n1', labels: { zone: 'a' } }, window: '15s', usage: { cpu: '250500000n', memory: '2048Ki' },
    });
    expect((await get(`${METRICS}/nodes?labelSelector=zone%3Db`)).body.items).toEqual([]);
    expect((await get(`${METRICS}/nodes/n1`)).body.usage.cpu).toBe('250500000n');
    expect((await get(`${METRICS}/nodes/n2`)).status).toBe(404);
  });

  it('serves PodMetrics for existing pods with a sample, by namespace, name and label', async () => {
    const pods = (await get(`${METRICS}/namespaces/default/pods`)).body;
    expect(pods.kind).toBe('PodMetricsList');
    expect(pods.items.map((p: any) => [p.metadata.name, p.containers])).toEqual([
      ['db-1', [{ name: 'main', usage: { cpu: '50000000n', memory: '0Ki' } }]],
      ['web-1', [{ name: 'main', usage: { cpu: '200500000n', memory: '128Ki' } }]],
    ]);
    expect((await get(`${METRICS}/namespaces/default/pods?labelSelector=app%3Dweb`)).body.items.map((p: any) => p.metadata.name)).toEqual(['web-1']);
    expect((await get(`${METRICS}/pods`)).body.items).toHaveLength(2);
    expect((await get(`${METRICS}/namespaces/default/pods/web-1`)).body).toMatchObject({ kind: 'PodMetrics', metadata: { namespace: 'default', labels: { app: 'web' } } });
    const missing = await get(`${METRICS}/namespaces/default/pods/idle`);
    expect(missing).toMatchObject({ status: 404, body: { reason: 'NotFound', message: 'podmetrics.metrics.k8s.io "default/idle" not found' } });
  });
});
