// Node memory end to end (real control plane, broker, agent and a plain preview 1 C guest): the
// default limit for containers without one (and a LimitRange's default taking its place), admission against allocatable memory, and the pool
// that keeps all containers' memories within it.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const Mi = 1024 * 1024;
const NS = '/api/v1/namespaces/default';
const PODS = `${NS}/pods`;
const byName = (name: string) => `${PODS}?fieldSelector=metadata.name%3D${name}`;
const KIB = /malloc returned NULL after (\d+) KiB in \d+ blocks, 0 corrupted/;

function allocPod(name: string, env: Record<string, string>, resources?: Record<string, Record<string, string>>) {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: {
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: 'tests/alloc:latest', env: Object.entries(env).map(([n, value]) => ({ name: n, value })), ...(resources ? { resources } : {}) }],
    },
  };
}

describe('node memory on the agent', () => {
  let cluster: Cluster;
  const logs = async (name: string) => (await cluster.client.request<string>('GET', `${PODS}/${name}/log`)).text;
  const create = async (pod: ReturnType<typeof allocPod>) => expect((await cluster.client.request('POST', PODS, pod)).status).toBe(201);
  const finished = (name: string) => waitFor<Pod>(cluster.client, byName(name), (e) => ['Succeeded', 'Failed'].includes(e.object.status?.phase ?? ''), 30_000);

  beforeAll(async () => {
    cluster = await startCluster({ agentAllocatableMemoryBytes: 96 * Mi, agentDefaultMemoryLimitBytes: 16 * Mi });
    await cluster.cp.registry.push('tests/alloc:latest', readFileSync('test/guests/c/alloc.wasm'));
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('reports allocatable memory apart from capacity', async () => {
    const node = (await cluster.client.request<Node>('GET', '/api/v1/nodes/node-1')).body;
    expect(node.status?.allocatable?.['memory']).toBe('96Mi');
    expect(node.status?.capacity?.['memory']).not.toBe('96Mi');
  });

  it('caps a container without a limit at the node default: malloc gets NULL, the pod ends OOMKilled', async () => {
    await create(allocPod('no-limit', {}));
    const pod = await finished('no-limit');
    const terminated = pod.status?.containerStatuses?.[0]?.state.terminated;
    expect(terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled', message: `memory limit of ${16 * Mi} bytes reached (it exited with code 1 after an allocation was refused)` });
    const kib = Number(KIB.exec(await logs('no-limit'))?.[1]);
    expect(kib).toBeGreaterThanOrEqual(12 * 1024);
    expect(kib).toBeLessThan(16 * 1024);
  });

  it('applies a LimitRange default memory limit instead of the node default', async () => {
    const LIMITED = '/api/v1/namespaces/limited';
    expect((await cluster.client.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'limited' } })).status).toBe(201);
    expect((await cluster.client.request('POST', `${LIMITED}/limitranges`, {
      apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'memory' }, spec: { limits: [{ type: 'Container', default: { memory: '24Mi' } }] },
    })).status).toBe(201);
    expect((await cluster.client.request('POST', `${LIMITED}/pods`, allocPod('ranged', {}))).status).toBe(201);
    const pod = await waitFor<Pod>(cluster.client, `${LIMITED}/pods?fieldSelector=metadata.name%3Dranged`, (e) => ['Succeeded', 'Failed'].includes(e.object.status?.phase ?? ''), 30_000);
    expect(pod.spec.containers[0]!.resources?.limits).toEqual({ memory: '24Mi' });
    expect(pod.status?.containerStatuses?.[0]?.state.terminated).toMatchObject({ reason: 'OOMKilled', message: `memory limit of ${24 * Mi} bytes reached (it exited with code 1 after an allocation was refused)` });
    const kib = Number(KIB.exec((await cluster.client.request<string>('GET', `${LIMITED}/pods/ranged/log`)).text)?.[1]);
    expect(kib).toBeGreaterThanOrEqual(16 * 1024);
    expect(kib).toBeLessThan(24 * 1024);
  });

  it('leaves the scheduler a pod whose request exceeds the allocatable memory (Pending), and the agent rejects one bound to it anyway', async () => {
    await create(allocPod('unschedulable', {}, { requests: { memory: '100Mi' } }));
    const pending = await waitFor<Pod>(cluster.client, byName('unschedulable'), (e) => e.object.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False') ?? false);
    expect(pending.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message).toMatch(/Insufficient memory/);
    // bound without the scheduler (as a DaemonSet's pods are): the node's admission refuses it
    const bound = allocPod('too-big', {}, { requests: { memory: '100Mi' } });
    await create({ ...bound, spec: { ...bound.spec, nodeName: 'node-1' } } as ReturnType<typeof allocPod>);
    const pod = await finished('too-big');
    const message = `Node didn't have enough resource: memory, requested: ${100 * Mi}, used: 0, capacity: ${96 * Mi}`;
    expect(pod.status).toMatchObject({ phase: 'Failed', reason: 'OutOfmemory', message: `Pod was rejected: ${message}` });
    const events = await cluster.client.request<{ items: Array<{ reason: string; message: string; involvedObject: { name: string } }> }>('GET', `${NS}/events`);
    expect(events.body.items).toContainEqual(expect.objectContaining({ reason: 'OutOfmemory', message, involvedObject: expect.objectContaining({ name: 'too-big' }) }));
  });

  it('keeps all containers within allocatable memory: the pod that grows past it gets NULL', async () => {
    const burstable = { requests: { memory: '1Mi' }, limits: { memory: '80Mi' } };
    await create(allocPod('holder', { HOLD_MIB: '60' }, burstable));
    await waitFor<Pod>(cluster.client, byName('holder'), (e) => e.object.status?.phase === 'Running');
    await expect.poll(() => logs('holder'), { timeout: 20_000 }).toContain('alloc: holding 61440 KiB');
    await create(allocPod('grower', {}, burstable));
    const pod = await finished('grower');
    expect(pod.status?.containerStatuses?.[0]?.state.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(pod.status?.containerStatuses?.[0]?.state.terminated?.message).toMatch(/^the node's memory for containers is used up/);
    expect(Number(KIB.exec(await logs('grower'))?.[1])).toBeLessThan(36 * 1024);
    expect((await cluster.client.request('DELETE', `${PODS}/holder`)).status).toBe(200);
  });
});
