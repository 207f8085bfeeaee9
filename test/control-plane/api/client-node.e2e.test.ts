// @kubernetes/client-node 1.4 against the HTTPS API server: an informer (list + watch) and KubernetesObjectApi, on both stores.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTool } from '../../support/tools.js';
import { startEtcdServer, type EtcdServer } from '../../../bench/support/etcd-server.js';
import { startKubectlCluster, type KubectlCluster } from '../support/kubectl-harness.js';
import { aDeployment } from '../support/sample-objects.js';

const stores = [{ store: 'sqlite', needsEtcd: false }, { store: 'etcd', needsEtcd: true }]
  .filter((s) => !s.needsEtcd || hasTool('etcd', 'client-node e2e on etcd'));

/** Resolves when `predicate` holds for the informer's cache, re-checking on each of its events. */
function cacheCondition<T extends k8s.KubernetesObject>(informer: k8s.Informer<T> & k8s.ObjectCache<T>, predicate: (items: readonly T[]) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => { if (predicate(informer.list())) resolve(); };
    for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, check);
    check();
  });
}

describe.each(stores)('@kubernetes/client-node on $store', ({ needsEtcd }) => {
  let etcd: EtcdServer | undefined;
  let c: KubectlCluster;
  let kc: k8s.KubeConfig;

  beforeAll(async () => {
    if (needsEtcd) etcd = await startEtcdServer();
    c = await startKubectlCluster(etcd ? `etcd://${new URL(etcd.endpoint).host}` : 'sqlite');
    kc = new k8s.KubeConfig();
    kc.loadFromFile(c.kubeconfigPath);
  }, 60_000);
  afterAll(async () => {
    await c?.close();
    await etcd?.stop();
  });

  it('keeps an informer cache in step with creates, updates and deletes', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'before' }, data: { a: '1' } } });
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    informer.on('error', () => undefined);
    await informer.start();
    try {
      await cacheCondition(informer, (items) => items.some((i) => i.metadata?.name === 'before'));
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'during' }, data: { a: '1' } } });
      await core.patchNamespacedConfigMap({ namespace: 'default', name: 'before', body: { data: { a: '2' } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'during' });
      await cacheCondition(informer, (items) =>
        items.find((i) => i.metadata?.name === 'before')?.data?.['a'] === '2' && !items.some((i) => i.metadata?.name === 'during'));
    } finally {
      await informer.stop();
    }
  });

  it('creates, reads, patches, lists and deletes a Deployment with KubernetesObjectApi', async () => {
    const client = k8s.KubernetesObjectApi.makeApiClient(kc);
    const created = await client.create(aDeployment('web', { replicas: 2 }) as k8s.KubernetesObject) as k8s.V1Deployment;
    expect(created.spec?.strategy?.rollingUpdate?.maxSurge).toBe('25%');
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' } };
    const patched = await client.patch({ ...ref, spec: { replicas: 4 } } as k8s.KubernetesObject, undefined, undefined, undefined, undefined,
      k8s.PatchStrategy.MergePatch) as k8s.V1Deployment;
    expect(patched.spec?.replicas).toBe(4);
    expect((await client.read(ref) as k8s.V1Deployment).metadata?.generation).toBe(2);
    const list = await client.list('apps/v1', 'Deployment', 'default');
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['web']);
    await client.delete(ref);
    await expect(client.read(ref)).rejects.toMatchObject({ code: 404 });
  });
});
