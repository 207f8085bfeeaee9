import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyJsonPatch } from '../../../control-plane/api/patch/json-patch.js';
import { applyMergePatch } from '../../../control-plane/api/patch/merge-patch.js';
import { applyStrategicMergePatch } from '../../../control-plane/api/patch/strategic-merge-patch.js';
import { aPod } from '../support/test-resources.js';
import { openTestApi, type TestApi } from '../support/test-api.js';

describe('patch algorithms', () => {
  it('merge patch merges objects, replaces lists and deletes nulls', () => {
    expect(applyMergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null, e: 4 }, l: [3] })).toEqual({ a: 1, b: { d: 3, e: 4 }, l: [3] });
  });

  it('JSON patch applies add, replace, remove, move, copy and test', () => {
    const doc = { a: { b: [1, 2] }, x: 'y' };
    expect(applyJsonPatch(doc, [
      { op: 'add', path: '/a/b/-', value: 3 }, { op: 'replace', path: '/x', value: 'z' }, { op: 'remove', path: '/a/b/0' },
      { op: 'copy', from: '/x', path: '/c' }, { op: 'move', from: '/c', path: '/d' }, { op: 'test', path: '/d', value: 'z' },
    ])).toEqual({ a: { b: [2, 3] }, x: 'z', d: 'z' });
    expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/missing', value: 1 }])).toThrow(/missing/);
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/x', value: 'nope' }])).toThrow(/failed/);
  });

  it('strategic merge merges containers by name, env by name and ports by containerPort', () => {
    const original = { spec: { containers: [
      { name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }], ports: [{ containerPort: 80, protocol: 'TCP' }] },
      { name: 'b', image: 'b:1' },
    ] } };
    const patched = applyStrategicMergePatch(original, { spec: { containers: [
      { name: 'a', image: 'a:2', env: [{ name: 'Y', value: '2' }], ports: [{ containerPort: 80, name: 'http' }] },
      { name: 'c', image: 'c:1' },
    ] } });
    expect(patched).toEqual({ spec: { containers: [
      { name: 'a', image: 'a:2', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }], ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }] },
      { name: 'b', image: 'b:1' },
      { name: 'c', image: 'c:1' },
    ] } });
  });

  it('strategic merge honours $patch delete/replace, null, $setElementOrder, $retainKeys and $deleteFromPrimitiveList', () => {
    const original = { metadata: { labels: { a: '1', b: '2' }, finalizers: ['x', 'y'] }, spec: { containers: [{ name: 'a' }, { name: 'b' }], strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } };
    const patched = applyStrategicMergePatch(original, {
      metadata: { labels: { a: null }, '$deleteFromPrimitiveList/finalizers': ['x'] },
      spec: {
        containers: [{ name: 'a', $patch: 'delete' }, { name: 'z' }],
        '$setElementOrder/containers': [{ name: 'z' }, { name: 'b' }],
        strategy: { $retainKeys: ['type'], type: 'Recreate' },
      },
    });
    expect(patched).toEqual({ metadata: { labels: { b: '2' }, finalizers: ['y'] }, spec: { containers: [{ name: 'z' }, { name: 'b' }], strategy: { type: 'Recreate' } } });
    expect(applyStrategicMergePatch({ spec: { volumes: [{ name: 'a' }] } }, { spec: { volumes: [{ $patch: 'replace' }, { name: 'b' }] } }))
      .toEqual({ spec: { volumes: [{ name: 'b' }] } });
    expect(applyStrategicMergePatch({ metadata: { labels: { a: '1' } } }, { metadata: { labels: { $patch: 'replace', b: '2' } } }))
      .toEqual({ metadata: { labels: { b: '2' } } });
  });
});

describe('PATCH over HTTP', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await openTestApi();
    await api.call('POST', '/api/v1/namespaces/default/pods', { body: aPod('web', { labels: { app: 'web' } }) });
  });
  afterAll(async () => { await api.close(); });
  const path = '/api/v1/namespaces/default/pods/web';
  const get = async () => (await (await api.call('GET', path)).json()) as ReturnType<typeof aPod>;

  it('applies a merge patch that removes a label with null', async () => {
    const res = await api.call('PATCH', path, { body: { metadata: { labels: { app: null, tier: 'front' } } }, contentType: 'application/merge-patch+json' });
    expect(res.status).toBe(200);
    expect((await get()).metadata.labels).toEqual({ tier: 'front' });
  });

  it('applies a strategic merge patch to a container image by name', async () => {
    const res = await api.call('PATCH', path, { body: { spec: { containers: [{ name: 'main', image: 'registry.local/hello:2.0' }] } }, contentType: 'application/strategic-merge-patch+json' });
    expect(res.status).toBe(200);
    const pod = await get();
    expect(pod.spec.containers).toHaveLength(1);
    expect(pod.spec.containers[0]?.image).toBe('registry.local/hello:2.0');
    expect(pod.metadata.generation).toBe(2);
  });

  it('applies a JSON patch, and answers a failing one with 422', async () => {
    const ok = await api.call('PATCH', path, { body: [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }], contentType: 'application/json-patch+json' });
    expect(ok.status).toBe(200);
    const bad = await api.call('PATCH', path, { body: [{ op: 'remove', path: '/metadata/nothing' }], contentType: 'application/json-patch+json' });
    expect(bad.status).toBe(422);
  });

  it('patches status through the status subresource', async () => {
    const res = await api.call('PATCH', `${path}/status`, { body: { status: { phase: 'Running' } }, contentType: 'application/merge-patch+json' });
    expect(res.status).toBe(200);
    expect((await get()).status?.phase).toBe('Running');
  });

  it('answers a patch that pins a stale resourceVersion with 409', async () => {
    const res = await api.call('PATCH', path, { body: { metadata: { resourceVersion: '1', labels: { x: 'y' } } }, contentType: 'application/merge-patch+json' });
    expect(res.status).toBe(409);
  });

  it('answers an immutable-field patch with 422 Forbidden cause', async () => {
    const res = await api.call('PATCH', path, { body: { spec: { restartPolicy: 'Never' } }, contentType: 'application/merge-patch+json' });
    expect(res.status).toBe(422);
    expect(JSON.stringify(await res.json())).toContain('Forbidden: pod updates may not change fields other than');
  });

  it('creates a missing object on server-side apply', async () => {
    const res = await api.call('PATCH', '/api/v1/namespaces/default/pods/applied?fieldManager=kubectl&force=true', { body: aPod('applied'), contentType: 'application/apply-patch+yaml' });
    expect(res.status).toBe(201);
    expect((await api.call('GET', '/api/v1/namespaces/default/pods/applied')).status).toBe(200);
  });

  it('rejects unknown patch types with 415', async () => {
    const res = await api.call('PATCH', path, { body: {}, contentType: 'text/plain' });
    expect(res.status).toBe(415);
  });
});
