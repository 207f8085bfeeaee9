import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlreadyExistsError, ConflictError, NotFoundError, ValidationError } from '../../../api/errors.js';
import type { Namespace } from '../../../api/types/node.js';
import type { Pod } from '../../../api/types/pod.js';
import { ResourceStore } from '../../../control-plane/resources/resource-store.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

const pods = resourceTypes.pods;
let t: TestResources;
beforeEach(async () => { t = await openTestResources(); });
afterEach(async () => { await t.close(); });

describe('ResourceStore create', () => {
  it('sets server fields and defaults a pod like the API server', async () => {
    const pod = await t.resources.create(pods, aPod('web', { image: 'hello' }));
    expect(pod.metadata.uid).toMatch(/^uid-/);
    expect(pod.metadata.creationTimestamp).toBe('2026-01-01T00:00:00Z');
    expect(pod.metadata.generation).toBe(1);
    expect(Number(pod.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(pod.spec.restartPolicy).toBe('Always');
    expect(pod.spec.terminationGracePeriodSeconds).toBe(30);
    expect(pod.spec['dnsPolicy']).toBe('ClusterFirst');
    expect(pod.spec.schedulerName).toBe('default-scheduler');
    expect(pod.spec.containers[0]?.imagePullPolicy).toBe('Always');
    expect(pod.spec.containers[0]?.terminationMessagePath).toBe('/dev/termination-log');
    expect(pod.status?.phase).toBe('Pending');
  });

  it('pulls tagged images IfNotPresent and defaults port protocol to TCP', async () => {
    const input = aPod('web');
    input.spec.containers[0]!.ports = [{ containerPort: 8080 }];
    const pod = await t.resources.create(pods, input);
    expect(pod.spec.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
    expect(pod.spec.containers[0]?.ports?.[0]?.protocol).toBe('TCP');
  });

  it('generates a name from generateName', async () => {
    const input = aPod('');
    input.metadata = { generateName: 'web-', namespace: 'default' };
    const pod = await t.resources.create(pods, input);
    expect(pod.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
  });

  it('gives a generated name that is taken another suffix, and gives up after 8 tries as the real server', async () => {
    const suffixes = ['aaaaa', 'aaaaa', 'aaaaa', 'bbbbb', ...Array<string>(9).fill('ccccc')];
    const resources = new ResourceStore(t.store, { clock: t.clock, nameSuffix: () => suffixes.shift()! });
    const generated = (): Pod => ({ ...aPod(''), metadata: { generateName: 'web-', namespace: 'default' } });
    expect((await resources.create(pods, generated())).metadata.name).toBe('web-aaaaa');
    expect((await resources.create(pods, generated())).metadata.name).toBe('web-bbbbb'); // two collisions, then free
    expect((await resources.create(pods, generated())).metadata.name).toBe('web-ccccc');
    await expect(resources.create(pods, generated())).rejects.toBeInstanceOf(AlreadyExistsError); // 'ccccc' taken 8 times
    expect(suffixes).toEqual([]);
  });

  it('rejects a duplicate name with AlreadyExists', async () => {
    await t.resources.create(pods, aPod('web'));
    await expect(t.resources.create(pods, aPod('web'))).rejects.toBeInstanceOf(AlreadyExistsError);
  });

  it('rejects a pod in a missing namespace with NotFound for the namespace', async () => {
    const err = await t.resources.create(pods, aPod('web', { namespace: 'nope' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).message).toBe('namespaces "nope" not found');
  });

  it('reports invalid fields as causes', async () => {
    const input = aPod('Bad_Name');
    input.spec.containers.push({ name: 'main', image: '' });
    input.spec.restartPolicy = 'Sometimes' as never;
    input.spec.containers[0]!.ports = [{ containerPort: 70000 }];
    input.spec.containers[0]!.resources = { limits: { cpu: 'lots' } };
    input.spec.volumes = [{ name: 'scratch', emptyDir: { sizeLimit: 'a lot' } }];
    const err = (await t.resources.create(pods, input).catch((e: unknown) => e)) as ValidationError;
    expect(err).toBeInstanceOf(ValidationError);
    const fields = err.causes.map((c) => c.field);
    expect(fields).toEqual(expect.arrayContaining([
      'metadata.name', 'spec.containers[1].name', 'spec.containers[1].image', 'spec.restartPolicy',
      'spec.containers[0].ports[0].containerPort', 'spec.containers[0].resources.limits[cpu]',
      'spec.volumes[0].emptyDir.sizeLimit',
    ]));
    expect(err.causes.find((c) => c.field === 'spec.containers[1].image')?.message).toBe('Required value');
    expect(err.causes.find((c) => c.field === 'spec.containers[1].name')?.reason).toBe('FieldValueDuplicate');
  });

  it('requires at least one container', async () => {
    const input = aPod('web');
    input.spec.containers = [];
    const err = (await t.resources.create(pods, input).catch((e: unknown) => e)) as ValidationError;
    expect(err.message).toBe('Pod "web" is invalid: spec.containers: Required value');
  });

  it('defaults namespaces with the kubernetes finalizer and name label', async () => {
    const ns = await t.resources.create<Namespace>(resourceTypes.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    expect(ns.spec?.finalizers).toEqual(['kubernetes']);
    expect(ns.status?.phase).toBe('Active');
    expect(ns.metadata.labels?.['kubernetes.io/metadata.name']).toBe('team');
  });

  it('does not write on dryRun', async () => {
    await t.resources.create(pods, aPod('web'), { dryRun: true });
    await expect(t.resources.get(pods, 'default', 'web')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('ResourceStore update', () => {
  it('rejects a stale resourceVersion with Conflict', async () => {
    const pod = await t.resources.create(pods, aPod('web'));
    await t.resources.update(pods, { ...pod, metadata: { ...pod.metadata, labels: { a: 'b' } } });
    await expect(t.resources.update(pods, { ...pod, metadata: { ...pod.metadata, labels: { a: 'c' } } })).rejects.toBeInstanceOf(ConflictError);
  });

  it('ignores status on the main resource and bumps generation on spec changes', async () => {
    const pod = await t.resources.create(pods, aPod('web'));
    const changed = structuredClone(pod);
    changed.spec.containers[0]!.image = 'registry.local/hello:2.0';
    changed.status = { phase: 'Running' };
    const updated = await t.resources.update(pods, changed);
    expect(updated.status?.phase).toBe('Pending');
    expect(updated.metadata.generation).toBe(2);
    expect(updated.spec.containers[0]?.image).toBe('registry.local/hello:2.0');
  });

  it('changes only status through the status subresource', async () => {
    const pod = await t.resources.create(pods, aPod('web'));
    const changed = structuredClone(pod);
    changed.status = { phase: 'Running' };
    changed.spec.containers[0]!.image = 'other:1';
    const updated = await t.resources.update(pods, changed, { subresource: 'status' });
    expect(updated.status?.phase).toBe('Running');
    expect(updated.spec.containers[0]?.image).toBe('registry.local/hello:1.0');
    expect(updated.metadata.generation).toBe(1);
  });

  it('forbids changing immutable pod spec fields', async () => {
    const pod = await t.resources.create(pods, aPod('web'));
    const changed = structuredClone(pod);
    changed.spec.restartPolicy = 'Never';
    const err = (await t.resources.update(pods, changed).catch((e: unknown) => e)) as ValidationError;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.causes[0]?.message).toMatch(/^Forbidden: pod updates may not change fields other than/);
  });

  it('mutate retries on conflict and skips the write when fn returns undefined', async () => {
    await t.resources.create(pods, aPod('web'));
    let calls = 0;
    let concurrent: Promise<unknown> | undefined;
    const updated = await t.resources.mutate<Pod>(pods, 'default', 'web', (p) => {
      calls++;
      if (calls === 1) {
        // A concurrent writer sneaks in between this read and the write.
        concurrent = t.resources.mutate<Pod>(pods, 'default', 'web', (q) => ({ ...q, metadata: { ...q.metadata, labels: { other: 'x' } } }));
      }
      p.metadata.annotations = { touched: String(calls) };
      return p;
    });
    await concurrent;
    expect(updated.metadata.annotations?.['touched']).toBeDefined();
    const before = await t.resources.get<Pod>(pods, 'default', 'web');
    const same = await t.resources.mutate<Pod>(pods, 'default', 'web', () => undefined);
    expect(same.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });
});

describe('ResourceStore delete', () => {
  it('removes an unscheduled pod at once', async () => {
    await t.resources.create(pods, aPod('web'));
    await t.resources.delete(pods, 'default', 'web');
    await expect(t.resources.get(pods, 'default', 'web')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('only marks a running bound pod, then removes it with grace 0', async () => {
    await t.resources.create(pods, aPod('web', { nodeName: 'pi-1' }));
    const marked = await t.resources.delete<Pod>(pods, 'default', 'web');
    expect(marked.metadata.deletionTimestamp).toBe('2026-01-01T00:00:30Z');
    expect(marked.metadata.deletionGracePeriodSeconds).toBe(30);
    expect((await t.resources.get(pods, 'default', 'web')).metadata.deletionTimestamp).toBeDefined();
    await t.resources.delete(pods, 'default', 'web', { gracePeriodSeconds: 0 });
    await expect(t.resources.get(pods, 'default', 'web')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('removes a bound pod in a terminal phase at once', async () => {
    await t.resources.create(pods, aPod('job', { nodeName: 'pi-1' }));
    await t.resources.mutate<Pod>(pods, 'default', 'job', (p) => ({ ...p, status: { phase: 'Succeeded' } }), { subresource: 'status' });
    await t.resources.delete(pods, 'default', 'job');
    await expect(t.resources.get(pods, 'default', 'job')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('keeps an object with finalizers until the last one is removed', async () => {
    const input = aPod('held');
    input.metadata.finalizers = ['example.com/hold'];
    await t.resources.create(pods, input);
    const marked = await t.resources.delete<Pod>(pods, 'default', 'held');
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    await t.resources.mutate<Pod>(pods, 'default', 'held', (p) => ({ ...p, metadata: { ...p.metadata, finalizers: [] } }));
    await expect(t.resources.get(pods, 'default', 'held')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('fails a delete whose uid precondition does not match with Conflict', async () => {
    await t.resources.create(pods, aPod('web'));
    await expect(t.resources.delete(pods, 'default', 'web', { preconditions: { uid: 'other' } })).rejects.toBeInstanceOf(ConflictError);
  });

  it('marks a namespace Terminating until it is finalized', async () => {
    const marked = await t.resources.delete<Namespace>(resourceTypes.namespaces, undefined, 'kube-public');
    expect(marked.status?.phase).toBe('Terminating');
    const err = await t.resources.create(pods, aPod('late', { namespace: 'kube-public' })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/being terminated/);
    await t.resources.mutate<Namespace>(resourceTypes.namespaces, undefined, 'kube-public', (ns) => ({ ...ns, spec: { finalizers: [] } }), { subresource: 'finalize' });
    await expect(t.resources.get(resourceTypes.namespaces, undefined, 'kube-public')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('ResourceStore list', () => {
  it('filters by label and field selectors, across namespaces', async () => {
    await t.resources.create(pods, aPod('a', { labels: { app: 'web' } }));
    await t.resources.create(pods, aPod('b', { labels: { app: 'db' }, nodeName: 'pi-1' }));
    await t.resources.create(pods, aPod('c', { namespace: 'kube-system', labels: { app: 'web' } }));
    const names = async (opts: object) => (await t.resources.list(pods, opts)).items.map((p) => p.metadata.name);
    expect(await names({})).toEqual(['a', 'b', 'c']);
    expect(await names({ namespace: 'default' })).toEqual(['a', 'b']);
    expect(await names({ labelSelector: 'app=web' })).toEqual(['a', 'c']);
    expect(await names({ labelSelector: 'app in (db, cache)' })).toEqual(['b']);
    expect(await names({ labelSelector: 'app notin (db)' })).toEqual(['a', 'c']);
    expect(await names({ fieldSelector: 'spec.nodeName=pi-1' })).toEqual(['b']);
    expect(await names({ fieldSelector: 'metadata.namespace!=default' })).toEqual(['c']);
  });

  it('pages with limit and continue at one revision', async () => {
    for (const n of ['a', 'b', 'c', 'd', 'e']) await t.resources.create(pods, aPod(n));
    const first = await t.resources.list(pods, { limit: 2 });
    expect(first.items.map((p) => p.metadata.name)).toEqual(['a', 'b']);
    await t.resources.create(pods, aPod('bb'));
    const second = await t.resources.list(pods, { limit: 2, continue: first.metadata.continue });
    expect(second.items.map((p) => p.metadata.name)).toEqual(['c', 'd']);
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    const third = await t.resources.list(pods, { limit: 2, continue: second.metadata.continue });
    expect(third.items.map((p) => p.metadata.name)).toEqual(['e']);
    expect(third.metadata.continue).toBeUndefined();
  });

  it('pages through selector matches', async () => {
    for (const n of ['a', 'b', 'c', 'd']) await t.resources.create(pods, aPod(n, { labels: { keep: n === 'b' || n === 'd' ? 'yes' : 'no' } }));
    const first = await t.resources.list(pods, { limit: 1, labelSelector: 'keep=yes' });
    expect(first.items.map((p) => p.metadata.name)).toEqual(['b']);
    const second = await t.resources.list(pods, { limit: 1, labelSelector: 'keep=yes', continue: first.metadata.continue });
    expect(second.items.map((p) => p.metadata.name)).toEqual(['d']);
  });
});
