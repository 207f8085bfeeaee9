import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushComponent } from '../../cli/push-command.js';
import type { Event, Lease, Node } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { e2eBrokers, startCluster, waitFor, type Cluster } from './cluster-harness.js';

const PODS = '/api/v1/namespaces/default/pods';

function podManifest(name: string, image: string, env: Record<string, string> = {}, args: string[] = []) {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      containers: [{ name: 'main', image, args, env: Object.entries(env).map(([n, value]) => ({ name: n, value })) }],
    },
  };
}

const terminal = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
const byName = (name: string) => `${PODS}?fieldSelector=metadata.name%3D${name}`;

describe.each(e2eBrokers('pod lifecycle e2e'))('a Wasm pod, end to end over HTTPS and MQTT (%s broker)', (broker) => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ broker });
    for (const name of ['hello', 'trap', 'spin']) {
      await pushComponent(cluster.cp.kubeconfigPath, `wasm-examples/${name}/${name}.wasm`, `examples/${name}:latest`);
    }
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('registers the agent as a Ready node that renews its Lease', async () => {
    const node = await waitFor<Node>(cluster.client, '/api/v1/nodes', (e) =>
      e.object.metadata.name === 'node-1' && !!e.object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    expect(node.spec.podCIDR).toMatch(/^10\.42\.\d+\.0\/24$/);
    expect(node.metadata.labels?.['kubernetes.io/hostname']).toBe('node-1');
    const lease = await waitFor<Lease>(cluster.client, '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', (e) => e.object.metadata.name === 'node-1');
    expect(lease.spec.holderIdentity).toBe('node-1');
    expect(lease.spec.renewTime).toBeTruthy();
  });

  it('runs a pod to Succeeded with its env and args, and serves its logs', async () => {
    const created = await cluster.client.request<Pod>('POST', PODS, podManifest('hello', 'examples/hello:latest', { WHO: 'e2e' }, ['one', 'two']));
    expect(created.status).toBe(201);
    const pod = await waitFor<Pod>(cluster.client, byName('hello'), (e) => terminal(e.object));
    expect(pod.status?.phase).toBe('Succeeded');
    expect(pod.spec.nodeName).toBe('node-1');
    expect(pod.status?.podIP).toMatch(/^10\.42\./);
    const state = pod.status?.containerStatuses?.[0]?.state.terminated;
    expect(state).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(pod.status?.containerStatuses?.[0]?.imageID).toMatch(/^sha256:/);
    const logs = await cluster.client.request<string>('GET', `${PODS}/hello/log`);
    expect(logs.status).toBe(200);
    expect(logs.text).toContain('e2e');
    expect(logs.text).toContain('one');
    expect(logs.text).toContain('two');
  });

  it('reports a non-zero exit code as Failed with that code', async () => {
    await cluster.client.request('POST', PODS, podManifest('exit3', 'examples/hello:latest', { EXIT_CODE: '3' }));
    const pod = await waitFor<Pod>(cluster.client, byName('exit3'), (e) => terminal(e.object));
    expect(pod.status?.phase).toBe('Failed');
    expect(pod.status?.containerStatuses?.[0]?.state.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
  });

  it('ends a trapping component with reason Error and the trap in its message', async () => {
    await cluster.client.request('POST', PODS, podManifest('trap', 'examples/trap:latest'));
    const pod = await waitFor<Pod>(cluster.client, byName('trap'), (e) => terminal(e.object));
    const terminated = pod.status?.containerStatuses?.[0]?.state.terminated;
    expect(pod.status?.phase).toBe('Failed');
    expect(terminated?.reason).toBe('Error');
    expect(terminated?.message).toMatch(/unreachable/i);
  });

  it('keeps a pod with an unknown image waiting with ErrImagePull and an event', async () => {
    await cluster.client.request('POST', PODS, podManifest('ghost', 'examples/does-not-exist:v1'));
    const pod = await waitFor<Pod>(cluster.client, byName('ghost'), (e) =>
      /ErrImagePull|ImagePullBackOff/.test(e.object.status?.containerStatuses?.[0]?.state.waiting?.reason ?? ''));
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.status?.containerStatuses?.[0]?.state.waiting?.message).toMatch(/not found/);
    const event = await waitFor<Event>(cluster.client, '/api/v1/namespaces/default/events', (e) =>
      e.object.involvedObject.name === 'ghost' && e.object.reason === 'Failed');
    expect(event.type).toBe('Warning');
  });

  it('answers an invalid manifest with 422 and field causes, and stores nothing', async () => {
    const bad = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'Bad_Name' }, spec: { containers: [{ name: 'main' }] } };
    const res = await cluster.client.request<{ reason: string; details: { causes: Array<{ field: string }> } }>('POST', PODS, bad);
    expect(res.status).toBe(422);
    expect(res.body.reason).toBe('Invalid');
    const fields = res.body.details.causes.map((c) => c.field);
    expect(fields).toContain('metadata.name');
    expect(fields).toContain('spec.containers[0].image');
    expect((await cluster.client.request('GET', `${PODS}/Bad_Name`)).status).toBe(404);
  });

  it('stops and removes a running pod on delete', async () => {
    await cluster.client.request('POST', PODS, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'spinner' },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'examples/spin:latest' }] },
    });
    await waitFor<Pod>(cluster.client, byName('spinner'), (e) => e.object.status?.phase === 'Running');
    const del = await cluster.client.request<Pod>('DELETE', `${PODS}/spinner`, { propagationPolicy: 'Background' });
    expect([200, 202]).toContain(del.status); // graceful: marked now, removed when the node reports it stopped
    await waitFor<Pod>(cluster.client, byName('spinner'), (e) => e.type === 'DELETED');
    expect((await cluster.client.request('GET', `${PODS}/spinner`)).status).toBe(404);
  });

  it('starts a waiting pod once its missing image is pushed', async () => {
    await cluster.client.request('POST', PODS, podManifest('late', 'examples/late:v1'));
    await waitFor<Pod>(cluster.client, byName('late'), (e) => !!e.object.status?.containerStatuses?.[0]?.state.waiting?.reason?.includes('ImagePull'));
    await pushComponent(cluster.cp.kubeconfigPath, 'wasm-examples/hello/hello.wasm', 'examples/late:v1');
    const pod = await waitFor<Pod>(cluster.client, byName('late'), (e) => terminal(e.object));
    expect(pod.status?.phase).toBe('Succeeded');
  });
});
