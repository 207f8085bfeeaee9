// StatefulSet end to end on 2 agents with the real kubectl: pods web-0..2 created in order, each with
// its own claim bound by the local-path provisioner, scaled down and up keeping the claims, a
// partitioned rolling update, rollout status/history/undo, and Parallel pod management.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/types/pod.js';
import type { WatchEvent } from '../../cli/kube-client.js';
import { pushComponent } from '../../cli/push-command.js';
import type { StatefulSet } from '../../control-plane/controllers/workload-kinds.js';
import type { PersistentVolumeClaim } from '../../control-plane/resources/kinds/config.js';
import { waitFor as poll } from '../mqtt/wait-for.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, type Cluster } from './cluster-harness.js';

const run = promisify(execFile);
const NS = '/api/v1/namespaces/default';
const APPS = '/apis/apps/v1/namespaces/default';
const isReady = (pod: Pod) => pod.status?.phase === 'Running' && !!pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

function statefulSet(name: string, image: string, extra: Partial<StatefulSet['spec']> = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, namespace: 'default' },
    spec: {
      replicas: 3, serviceName: name, selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image }] } },
      ...extra,
    },
  };
}

describe.skipIf(!hasTool('kubectl', 'StatefulSet e2e'))('StatefulSets with the real kubectl', () => {
  let cluster: Cluster;
  const kubectl = async (...args: string[]) => {
    const { stdout } = await run(TOOL_PATHS.kubectl, args, { env: { PATH: process.env['PATH'], HOME: cluster.dataDir, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 120_000 });
    return stdout;
  };
  const pods = async (app: string) => (await cluster.client.request<{ items: Pod[] }>('GET', `${NS}/pods?labelSelector=app%3D${app}`)).body.items;
  const waitForPods = (app: string, what: string, predicate: (pods: Pod[]) => boolean) =>
    poll(what, async () => predicate(await pods(app)), { timeoutMs: 90_000, intervalMs: 200 });

  beforeAll(async () => {
    cluster = await startCluster({ agents: 2 });
    for (const tag of ['v1', 'v2']) await pushComponent(cluster.cp.kubeconfigPath, 'wasm-examples/sleep/sleep.wasm', `examples/app:${tag}`);
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('creates web-0..2 in order, each with its own bound claim, and keeps the claims across scale down and up', async () => {
    // record, for every pod as it appears, which pods were Ready then
    const seen: Array<{ name: string; readyBefore: string[] }> = [];
    const ready = new Set<string>();
    const abort = new AbortController();
    const watching = cluster.client.watch<Pod>(`${NS}/pods?labelSelector=app%3Dweb`, (e: WatchEvent<Pod>) => {
      const name = e.object.metadata.name!;
      if (e.type === 'ADDED') seen.push({ name, readyBefore: [...ready] });
      if (isReady(e.object)) ready.add(name);
      else ready.delete(name);
    }, abort.signal).catch(() => undefined);
    await kubectl('create', 'service', 'clusterip', 'web', '--clusterip=None', '--tcp=80:80');
    const sts = statefulSet('web', 'examples/app:v1', {
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '16Mi' } } } }],
    });
    expect((await cluster.client.request('POST', `${APPS}/statefulsets`, sts)).status).toBe(201);
    expect(await kubectl('rollout', 'status', 'statefulset/web', '--timeout=90s')).toContain('partitioned roll out complete: 3 new pods have been updated');
    abort.abort();
    await watching;
    expect(seen.map((s) => s.name)).toEqual(['web-0', 'web-1', 'web-2']);
    expect(seen[1]!.readyBefore).toContain('web-0');
    expect(seen[2]!.readyBefore).toEqual(expect.arrayContaining(['web-0', 'web-1']));

    const running = await pods('web');
    for (const p of running) {
      expect(p.spec.hostname).toBe(p.metadata.name);
      expect(p.spec['subdomain']).toBe('web');
      expect(p.metadata.labels?.['statefulset.kubernetes.io/pod-name']).toBe(p.metadata.name);
      expect(p.spec.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: `data-${p.metadata.name}` } });
    }
    await poll('claims bound', async () => (await kubectl('get', 'pvc', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.phase}')).trim() === 'Bound Bound Bound', { timeoutMs: 30_000 });
    const claimUids = async () => Object.fromEntries((await cluster.client.request<{ items: PersistentVolumeClaim[] }>('GET', `${NS}/persistentvolumeclaims`)).body.items.map((c) => [c.metadata.name, c.metadata.uid]));
    const before = await claimUids();
    expect(Object.keys(before).sort()).toEqual(['data-web-0', 'data-web-1', 'data-web-2']);
    expect(await kubectl('get', 'sts', 'web')).toMatch(/^NAME\s+READY\s+AGE\nweb\s+3\/3\s+/);

    await kubectl('scale', 'statefulset/web', '--replicas=1');
    await waitForPods('web', 'scaled down to web-0', (ps) => ps.length === 1 && ps[0]!.metadata.name === 'web-0');
    expect(await claimUids()).toEqual(before);
    await kubectl('scale', 'statefulset/web', '--replicas=3');
    await kubectl('rollout', 'status', 'statefulset/web', '--timeout=90s');
    expect((await pods('web')).map((p) => p.metadata.name).sort()).toEqual(['web-0', 'web-1', 'web-2']);
    expect(await claimUids()).toEqual(before);
  }, 240_000);

  it('rolls an update out above the partition, then everywhere; lists the history and undoes it', async () => {
    await kubectl('patch', 'statefulset/web', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}');
    await kubectl('set', 'image', 'statefulset/web', 'main=examples/app:v2');
    expect(await kubectl('rollout', 'status', 'statefulset/web', '--timeout=90s')).toContain('partitioned roll out complete: 1 new pods have been updated');
    const images = async () => Object.fromEntries((await pods('web')).map((p) => [p.metadata.name, p.spec.containers[0]!.image]));
    await waitForPods('web', 'web-2 updated', (ps) => ps.length === 3 && ps.every(isReady));
    expect(await images()).toEqual({ 'web-0': 'examples/app:v1', 'web-1': 'examples/app:v1', 'web-2': 'examples/app:v2' });

    await kubectl('patch', 'statefulset/web', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}');
    expect(await kubectl('rollout', 'status', 'statefulset/web', '--timeout=90s')).toContain('partitioned roll out complete: 3 new pods have been updated');
    await waitForPods('web', 'all updated', (ps) => ps.length === 3 && ps.every((p) => isReady(p) && p.spec.containers[0]!.image === 'examples/app:v2'));
    const history = await kubectl('rollout', 'history', 'statefulset/web');
    expect(history).toMatch(/^1\s/m);
    expect(history).toMatch(/^2\s/m);

    expect(await kubectl('rollout', 'undo', 'statefulset/web')).toContain('rolled back');
    expect(await kubectl('rollout', 'status', 'statefulset/web', '--timeout=90s')).toContain('partitioned roll out complete: 3 new pods have been updated');
    await waitForPods('web', 'rolled back', (ps) => ps.length === 3 && ps.every((p) => isReady(p) && p.spec.containers[0]!.image === 'examples/app:v1'));
    expect(await kubectl('rollout', 'history', 'statefulset/web')).toMatch(/^3\s/m);
  }, 300_000);

  it('creates every pod at once with Parallel, even while none becomes ready', async () => {
    const sts = statefulSet('par', 'examples/missing:latest', { podManagementPolicy: 'Parallel' });
    expect((await cluster.client.request('POST', `${APPS}/statefulsets`, sts)).status).toBe(201);
    await waitForPods('par', 'three pods at once', (ps) => ps.length === 3);
    expect((await pods('par')).some(isReady)).toBe(false);
    await kubectl('delete', 'statefulset/par');
    await waitForPods('par', 'pods gone with the set', (ps) => ps.length === 0);
  }, 120_000);
});
