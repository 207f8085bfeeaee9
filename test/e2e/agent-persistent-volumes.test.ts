// PersistentVolumeClaims bound by the local-path provisioner and emptyDir.sizeLimit eviction, on a
// real control plane with two real agents (and the real kubectl when installed).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../control-plane/resources/kinds/config.js';
import { waitFor as poll } from '../mqtt/wait-for.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const NS = '/api/v1/namespaces/default';
const PODS = `${NS}/pods`;
const PVCS = `${NS}/persistentvolumeclaims`;
const PVS = '/api/v1/persistentvolumes';
const byName = (path: string, name: string) => `${path}?fieldSelector=metadata.name%3D${name}`;
const terminal = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
const haveKubectl = hasTool('kubectl', 'kubectl get pvc,pv in the persistent volume e2e');

describe('persistent volumes and emptyDir limits on the agents', () => {
  let cluster: Cluster;
  const get = async <T>(path: string) => (await cluster.client.request<T>('GET', path)).body;
  const events = async (name: string) => (await get<{ items: Event[] }>(`${NS}/events`)).items.filter((e) => e.involvedObject.name === name);
  const logs = async (name: string) => (await cluster.client.request<string>('GET', `${PODS}/${name}/log`)).text;
  const create = async (path: string, body: unknown) => expect((await cluster.client.request('POST', path, body)).status).toBe(201);
  const gone = (path: string, name: string) => poll(`${path}/${name} gone`, async () => (await cluster.client.request('GET', `${path}/${name}`)).status === 404, { timeoutMs: 30_000, intervalMs: 50 });
  const agentDir = (node: string, ...parts: string[]) => join(cluster.dataDir, 'agents', node, ...parts);

  beforeAll(async () => {
    cluster = await startCluster({ agents: 2, agentSizeLimitCheckIntervalMs: 200 });
    for (const name of ['filewriter', 'sleep']) await cluster.cp.registry.push(`examples/${name}:latest`, readFileSync(`wasm-examples/${name}/${name}.wasm`));
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('binds a claim on first use, keeps its data for the next pod on the same node, and removes volume and directory with the claim', async () => {
    await create(PVCS, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'notes' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } } });
    const waiting = await poll('WaitForFirstConsumer', async () => (await events('notes')).find((e) => e.reason === 'WaitForFirstConsumer'), { timeoutMs: 20_000 });
    expect(waiting.message).toBe('waiting for first consumer to be created before binding');
    const pending = await get<PersistentVolumeClaim>(`${PVCS}/notes`);
    expect(pending.spec.storageClassName).toBe('local-path');
    expect(pending.status?.phase).toBe('Pending');

    const writer = (name: string, message: string, nodeName?: string) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name },
      spec: {
        restartPolicy: 'Never', ...(nodeName ? { nodeName } : {}),
        volumes: [{ name: 'store', persistentVolumeClaim: { claimName: 'notes' } }],
        containers: [{ name: 'main', image: 'examples/filewriter:latest', env: [{ name: 'MESSAGE', value: message }], volumeMounts: [{ name: 'store', mountPath: '/data', subPath: 'app' }] }],
      },
    });
    await create(PODS, writer('writer-1', 'first'));
    const first = await waitFor<Pod>(cluster.client, byName(PODS, 'writer-1'), (e) => terminal(e.object), 30_000);
    expect(first.status?.phase).toBe('Succeeded');
    const node = first.spec.nodeName!;
    const other = node === 'node-1' ? 'node-2' : 'node-1';

    const claim = await get<PersistentVolumeClaim>(`${PVCS}/notes`);
    const pvName = `pvc-${claim.metadata.uid}`;
    expect(claim.status).toEqual({ phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '64Mi' } });
    expect(claim.spec.volumeName).toBe(pvName);
    expect(claim.metadata.annotations?.['volume.kubernetes.io/selected-node']).toBe(node);
    const pv = await get<PersistentVolume>(`${PVS}/${pvName}`);
    expect(pv.status?.phase).toBe('Bound');
    expect(pv.spec).toMatchObject({
      claimRef: { namespace: 'default', name: 'notes', uid: claim.metadata.uid }, persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'local-path',
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
    });
    expect((await events('notes')).map((e) => e.reason)).toContain('ProvisioningSucceeded');
    const volumeDir = agentDir(node, 'volumes', 'local-path', `${pvName}_default_notes`);
    expect(readFileSync(join(volumeDir, 'app', 'out.txt'), 'utf8')).toBe('first\n');

    // the other node is the less loaded one now: only the volume's affinity brings the next writer back
    await create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ballast' }, spec: { nodeName: node, containers: [{ name: 'main', image: 'examples/sleep:latest' }] } });
    await cluster.client.request('DELETE', `${PODS}/writer-1`);
    await gone(PODS, 'writer-1');
    await create(PODS, writer('writer-2', 'second'));
    const second = await waitFor<Pod>(cluster.client, byName(PODS, 'writer-2'), (e) => terminal(e.object), 30_000);
    expect(second.status?.phase).toBe('Succeeded');
    expect(second.spec.nodeName).toBe(node);
    expect(await logs('writer-2')).toBe('first\nsecond\n');

    if (haveKubectl) {
      const { stdout } = await promisify(execFile)(TOOL_PATHS.kubectl, ['get', 'pvc,pv,sc'], { env: { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 30_000 });
      expect(stdout).toMatch(new RegExp(`NAME\\s+STATUS\\s+VOLUME\\s+CAPACITY\\s+ACCESS MODES\\s+STORAGECLASS.*\\npersistentvolumeclaim/notes\\s+Bound\\s+${pvName}\\s+64Mi\\s+RWO\\s+local-path`));
      expect(stdout).toMatch(new RegExp(`persistentvolume/${pvName}\\s+64Mi\\s+RWO\\s+Delete\\s+Bound\\s+default/notes\\s+local-path`));
      expect(stdout).toMatch(/storageclass.storage.k8s.io\/local-path \(default\)\s+skiff.dev\/local-path\s+Delete\s+WaitForFirstConsumer\s+false/);
    }

    // a claim in use is kept (pvc-protection) until no pod uses it; then volume and directory go
    await create(PODS, writer('holder', 'third', node));
    await cluster.client.request('DELETE', `${PODS}/writer-2`);
    await gone(PODS, 'writer-2');
    await cluster.client.request('DELETE', `${PVCS}/notes`);
    const terminating = await get<PersistentVolumeClaim>(`${PVCS}/notes`);
    expect(terminating.metadata.deletionTimestamp).toBeDefined();
    expect(terminating.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    await waitFor<Pod>(cluster.client, byName(PODS, 'holder'), (e) => terminal(e.object), 30_000);
    await cluster.client.request('DELETE', `${PODS}/holder`);
    await gone(PVCS, 'notes');
    await gone(PVS, pvName);
    await poll('the volume directory removed by the agent', () => !existsSync(volumeDir), { timeoutMs: 20_000 });
    expect(existsSync(agentDir(other, 'volumes', 'local-path', `${pvName}_default_notes`))).toBe(false);
  }, 120_000);

  it('leaves a pod whose claim does not exist unscheduled, saying why', async () => {
    await create(PODS, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan' },
      spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'absent' } }], containers: [{ name: 'main', image: 'examples/sleep:latest', volumeMounts: [{ name: 'd', mountPath: '/data' }] }] },
    });
    const failed = await poll('FailedScheduling', async () => (await events('orphan')).find((e) => e.reason === 'FailedScheduling'), { timeoutMs: 20_000 });
    expect(failed.message).toBe('0/2 nodes are available: persistentvolumeclaim "absent" not found.');
    const pod = await get<Pod>(`${PODS}/orphan`);
    expect(pod.spec.nodeName).toBeUndefined();
    expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
  });

  it('evicts a pod whose emptyDir grows past its sizeLimit; one under its limit keeps running', async () => {
    const filler = (name: string, bytes: number) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name },
      spec: {
        volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '1Ki' } }],
        initContainers: [{ name: 'fill', image: 'examples/filewriter:latest', env: [{ name: 'MESSAGE', value: 'x'.repeat(bytes) }], volumeMounts: [{ name: 'scratch', mountPath: '/data' }] }],
        containers: [{ name: 'main', image: 'examples/sleep:latest' }],
      },
    });
    // the pod under its limit runs first: every sweep that evicts the other one has measured it too
    await create(PODS, filler('within', 500));
    await waitFor<Pod>(cluster.client, byName(PODS, 'within'), (e) => e.object.status?.phase === 'Running', 30_000);
    await create(PODS, filler('hoarder', 2000));
    const evicted = await waitFor<Pod>(cluster.client, byName(PODS, 'hoarder'), (e) => e.object.status?.phase === 'Failed', 30_000);
    const message = 'Usage of EmptyDir volume "scratch" exceeds the limit "1Ki".';
    expect(evicted.status).toMatchObject({ phase: 'Failed', reason: 'Evicted', message });
    const event = await poll('Evicted event', async () => (await events('hoarder')).find((e) => e.reason === 'Evicted'), { timeoutMs: 10_000 });
    expect(event).toMatchObject({ type: 'Warning', message });
    await poll('the evicted pod\'s emptyDir freed', () => !existsSync(agentDir(evicted.spec.nodeName!, 'pods', evicted.metadata.uid!, 'volumes', 'scratch')), { timeoutMs: 10_000 });
    const within = await get<Pod>(`${PODS}/within`);
    expect(within.status?.phase).toBe('Running');
    expect((await events('within')).some((e) => e.reason === 'Evicted')).toBe(false);
  }, 90_000);
});
