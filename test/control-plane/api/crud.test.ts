import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aPod } from '../support/test-resources.js';
import { openTestApi, type TestApi } from '../support/test-api.js';

let api: TestApi;
beforeEach(async () => { api = await openTestApi(); });
afterEach(async () => { await api.close(); });

const podsPath = '/api/v1/namespaces/default/pods';

describe('create and get', () => {
  it('creates a pod (201) and reads it back', async () => {
    const res = await api.call('POST', podsPath, { body: aPod('web') });
    expect(res.status).toBe(201);
    const created = await res.json() as { metadata: { uid: string; resourceVersion: string } };
    const got = await (await api.call('GET', `${podsPath}/web`)).json() as { metadata: { uid: string } };
    expect(got.metadata.uid).toBe(created.metadata.uid);
  });

  it('takes the namespace from the path and rejects a different one in the body', async () => {
    const pod = aPod('web');
    delete pod.metadata.namespace;
    expect((await api.call('POST', podsPath, { body: pod })).status).toBe(201);
    const res = await api.call('POST', podsPath, { body: aPod('other', { namespace: 'kube-system' }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ reason: 'BadRequest', message: 'the namespace of the provided object does not match the namespace sent on the request' });
  });

  it('answers a duplicate with 409 AlreadyExists', async () => {
    await api.call('POST', podsPath, { body: aPod('web') });
    const res = await api.call('POST', podsPath, { body: aPod('web') });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "web" already exists',
      reason: 'AlreadyExists', details: { name: 'web', kind: 'pods' }, code: 409,
    });
  });

  it('answers an invalid pod with 422 and field causes', async () => {
    const pod = aPod('bad');
    pod.spec.containers[0]!.image = '';
    const res = await api.call('POST', podsPath, { body: pod });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      reason: 'Invalid', code: 422, message: 'Pod "bad" is invalid: spec.containers[0].image: Required value',
      details: { name: 'bad', kind: 'Pod', causes: [{ field: 'spec.containers[0].image', reason: 'FieldValueRequired', message: 'Required value' }] },
    });
  });

  it('answers a missing object with a NotFound Status naming it', async () => {
    const res = await api.call('GET', `${podsPath}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ reason: 'NotFound', message: 'pods "nope" not found', details: { name: 'nope', kind: 'pods' } });
  });

  it('answers malformed JSON with 400 and oversized bodies with 413', async () => {
    expect((await api.call('POST', podsPath, { body: '{"kind":' })).status).toBe(400);
    const small = await openTestApi({ maxBodyBytes: 100 });
    try {
      const res = await small.call('POST', podsPath, { body: aPod('x'.repeat(200)) });
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ reason: 'RequestEntityTooLarge' });
    } finally {
      await small.close();
    }
  });

  it('does not store anything for dryRun=All', async () => {
    expect((await api.call('POST', `${podsPath}?dryRun=All`, { body: aPod('web') })).status).toBe(201);
    expect((await api.call('GET', `${podsPath}/web`)).status).toBe(404);
  });

  it('creates cluster-scoped namespaces and rejects POST on a cluster-wide pod list', async () => {
    expect((await api.call('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } } })).status).toBe(201);
    expect((await api.call('POST', '/api/v1/pods', { body: aPod('web') })).status).toBe(405);
  });
});

describe('list', () => {
  it('lists across namespaces with selectors, limit and continue', async () => {
    await api.call('POST', podsPath, { body: aPod('a', { labels: { app: 'web' } }) });
    await api.call('POST', podsPath, { body: aPod('b', { labels: { app: 'db' } }) });
    await api.call('POST', '/api/v1/namespaces/kube-system/pods', { body: aPod('c', { namespace: 'kube-system', labels: { app: 'web' } }) });
    const names = async (path: string) => ((await (await api.call('GET', path)).json()) as { items: Array<{ metadata: { name: string } }> }).items.map((i) => i.metadata.name);
    expect(await names('/api/v1/pods')).toEqual(['a', 'b', 'c']);
    expect(await names(`/api/v1/pods?labelSelector=${encodeURIComponent('app in (web)')}`)).toEqual(['a', 'c']);
    expect(await names(`${podsPath}?fieldSelector=metadata.name%3Db`)).toEqual(['b']);
    const page = await (await api.call('GET', '/api/v1/pods?limit=2')).json() as { kind: string; metadata: { continue: string; resourceVersion: string } };
    expect(page.kind).toBe('PodList');
    expect(await names(`/api/v1/pods?limit=2&continue=${page.metadata.continue}`)).toEqual(['c']);
  });

  it('answers a bad selector with 400', async () => {
    const res = await api.call('GET', `${podsPath}?fieldSelector=spec.foo%3Dx`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ reason: 'BadRequest', message: 'field label not supported: spec.foo' });
    expect((await api.call('GET', `${podsPath}?labelSelector=a%20in%20(`)).status).toBe(400);
  });
});

describe('update, status, binding and delete', () => {
  it('answers a stale resourceVersion on PUT with 409 Conflict', async () => {
    const created = await (await api.call('POST', podsPath, { body: aPod('web') })).json() as ReturnType<typeof aPod>;
    const first = { ...created, metadata: { ...created.metadata, labels: { v: '1' } } };
    expect((await api.call('PUT', `${podsPath}/web`, { body: first })).status).toBe(200);
    const res = await api.call('PUT', `${podsPath}/web`, { body: { ...first, metadata: { ...first.metadata, labels: { v: '2' } } } });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ reason: 'Conflict' });
  });

  it('rejects a body whose name differs from the URL', async () => {
    const created = await (await api.call('POST', podsPath, { body: aPod('web') })).json() as ReturnType<typeof aPod>;
    const res = await api.call('PUT', `${podsPath}/other`, { body: created });
    expect(res.status).toBe(400);
  });

  it('writes status only through the status subresource', async () => {
    const created = await (await api.call('POST', podsPath, { body: aPod('web') })).json() as ReturnType<typeof aPod>;
    const res = await api.call('PUT', `${podsPath}/web/status`, { body: { ...created, status: { phase: 'Running', podIP: '10.0.0.5' } } });
    expect(res.status).toBe(200);
    const got = await (await api.call('GET', `${podsPath}/web/status`)).json() as ReturnType<typeof aPod>;
    expect(got.status?.podIP).toBe('10.0.0.5');
  });

  it('binds a pod once and answers a second binding with 409', async () => {
    await api.call('POST', podsPath, { body: aPod('web') });
    const binding = (node: string) => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web' }, target: { kind: 'Node', name: node } });
    const res = await api.call('POST', `${podsPath}/web/binding`, { body: binding('pi-1') });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ kind: 'Status', status: 'Success' });
    const pod = await (await api.call('GET', `${podsPath}/web`)).json() as ReturnType<typeof aPod>;
    expect(pod.spec.nodeName).toBe('pi-1');
    expect(pod.status?.conditions).toEqual([expect.objectContaining({ type: 'PodScheduled', status: 'True' })]);
    expect((await api.call('POST', `${podsPath}/web/binding`, { body: binding('pi-2') })).status).toBe(409);
  });

  it('deletes an unbound pod at once and only marks a bound one', async () => {
    await api.call('POST', podsPath, { body: aPod('free') });
    await api.call('POST', podsPath, { body: aPod('bound', { nodeName: 'pi-1' }) });
    const body = { body: { propagationPolicy: 'Background' } };
    expect((await api.call('DELETE', `${podsPath}/free`, body)).status).toBe(200);
    expect((await api.call('GET', `${podsPath}/free`)).status).toBe(404);
    const res = await api.call('DELETE', `${podsPath}/bound`, body);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ metadata: { deletionTimestamp: '2026-01-01T00:00:30Z', deletionGracePeriodSeconds: 30 } });
    expect((await api.call('GET', `${podsPath}/bound`)).status).toBe(200);
    expect((await api.call('DELETE', `${podsPath}/bound?gracePeriodSeconds=0`)).status).toBe(200);
    expect((await api.call('GET', `${podsPath}/bound`)).status).toBe(404);
  });

  it('deletes a collection by label selector', async () => {
    await api.call('POST', podsPath, { body: aPod('a', { labels: { app: 'web' } }) });
    await api.call('POST', podsPath, { body: aPod('b', { labels: { app: 'db' } }) });
    expect((await api.call('DELETE', `${podsPath}?labelSelector=app%3Dweb`)).status).toBe(200);
    const left = await (await api.call('GET', podsPath)).json() as { items: Array<{ metadata: { name: string } }> };
    expect(left.items.map((i) => i.metadata.name)).toEqual(['b']);
  });
});
