// Server-side apply over the API: managedFields (fieldsV1) per manager and operation, conflicts as
// 409 with FieldManagerConflict causes worded like the real server, force taking fields over,
// pruning of fields an applier stops sending, and updates/patches recorded as Update operations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestApi, type TestApi } from '../support/test-api.js';

const DEPLOYS = '/apis/apps/v1/namespaces/default/deployments';
const APPLY = 'application/apply-patch+yaml';
type Entry = { manager: string; operation: string; apiVersion: string; fieldsType: string; fieldsV1: any; time: string };

const deployment = (more: { replicas?: number; image?: string; labels?: Record<string, string>; extraContainer?: boolean } = {}) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', ...(more.labels ? { labels: more.labels } : {}) },
  spec: {
    ...(more.replicas !== undefined ? { replicas: more.replicas } : {}),
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: more.image ?? 'registry.local/web:1' }, ...(more.extraContainer ? [{ name: 'side', image: 'registry.local/side:1' }] : [])] },
    },
  },
});

describe('server-side apply', () => {
  let api: TestApi;
  const send = async (method: string, path: string, body?: unknown, contentType?: string) => {
    const res = await api.call(method, path, { ...(body !== undefined ? { body } : {}), ...(contentType ? { contentType } : {}) });
    return { status: res.status, body: await res.json() as Record<string, any> };
  };
  const managers = (obj: Record<string, any>) => (obj['metadata'].managedFields as Entry[]).map((e) => `${e.manager}/${e.operation}`).sort();
  const entry = (obj: Record<string, any>, manager: string) => (obj['metadata'].managedFields as Entry[]).find((e) => e.manager === manager)!;

  beforeAll(async () => {
    api = await openTestApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('records the applier\'s fields, conflicts with another manager\'s changes, and forces them over', async () => {
    const created = await send('PATCH', `${DEPLOYS}/web?fieldManager=alice`, deployment({ replicas: 2, labels: { team: 'a' }, extraContainer: true }), APPLY);
    expect(created.status).toBe(201);
    expect(managers(created.body)).toEqual(['alice/Apply']);
    const fields = entry(created.body, 'alice');
    expect(fields).toMatchObject({ operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1' });
    expect(fields.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:team': {} } },
      'f:spec': {
        'f:replicas': {}, 'f:selector': {},
        'f:template': { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:containers': {
          'k:{"name":"side"}': { '.': {}, 'f:image': {}, 'f:name': {} }, 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} },
        } } },
      },
    });

    const scaled = await send('PATCH', `${DEPLOYS}/web?fieldManager=kubectl-scale`, { spec: { replicas: 5 } }, 'application/merge-patch+json');
    expect(scaled.status).toBe(200);
    expect(managers(scaled.body)).toEqual(['alice/Apply', 'kubectl-scale/Update']);
    expect(entry(scaled.body, 'kubectl-scale').fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });

    // the same value is shared, a different one is a conflict
    expect((await send('PATCH', `${DEPLOYS}/web?fieldManager=bob`, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 5 } }, APPLY)).status).toBe(200);
    const conflict = await send('PATCH', `${DEPLOYS}/web?fieldManager=alice`, deployment({ replicas: 2, labels: { team: 'a' }, image: 'registry.local/web:2', extraContainer: true }), APPLY);
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({
      reason: 'Conflict', code: 409,
      message: 'Apply failed with 2 conflicts: conflicts with "bob":\n- .spec.replicas\nconflicts with "kubectl-scale" using apps/v1:\n- .spec.replicas',
      details: { causes: [
        { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-scale" using apps/v1', field: '.spec.replicas' },
        { reason: 'FieldManagerConflict', message: 'conflict with "bob"', field: '.spec.replicas' },
      ] },
    });
    const one = await send('PATCH', `${DEPLOYS}/web?fieldManager=carol`, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template: { spec: { containers: [{ name: 'web', image: 'registry.local/web:9' }] } } } }, APPLY);
    expect(one.status).toBe(409);
    expect(one.body['message']).toBe('Apply failed with 1 conflict: conflict with "alice": .spec.template.spec.containers[name="web"].image');

    const forced = await send('PATCH', `${DEPLOYS}/web?fieldManager=alice&force=true`, deployment({ replicas: 2, labels: { team: 'a' }, image: 'registry.local/web:2', extraContainer: true }), APPLY);
    expect(forced.status).toBe(200);
    expect(forced.body['spec'].replicas).toBe(2);
    expect(forced.body['spec'].template.spec.containers[0].image).toBe('registry.local/web:2');
    expect(managers(forced.body)).toEqual(['alice/Apply']); // bob and kubectl-scale owned only replicas
  });

  it('prunes what the applier stops sending unless another manager owns it', async () => {
    await send('PATCH', `${DEPLOYS}/web?fieldManager=dave`, { metadata: { labels: { owner: 'dave' } } }, 'application/merge-patch+json');
    const pruned = await send('PATCH', `${DEPLOYS}/web?fieldManager=alice`, deployment({ replicas: 2, image: 'registry.local/web:2' }), APPLY);
    expect(pruned.status).toBe(200);
    expect(pruned.body['metadata'].labels).toEqual({ owner: 'dave' });
    expect(pruned.body['spec'].template.spec.containers.map((c: { name: string }) => c.name)).toEqual(['web']);
    expect(managers(pruned.body)).toEqual(['alice/Apply', 'dave/Update']);
  });

  it('requires a field manager for apply, refuses force elsewhere, and records PUTs', async () => {
    const missing = await send('PATCH', `${DEPLOYS}/web`, deployment(), APPLY);
    expect(missing.status).toBe(422);
    expect(missing.body['message']).toContain('fieldManager: Required value: is required for apply patch');
    expect((await send('PATCH', `${DEPLOYS}/web?fieldManager=${'m'.repeat(129)}`, deployment(), APPLY)).status).toBe(422);
    expect((await send('PATCH', `${DEPLOYS}/web?force=true`, { spec: { replicas: 1 } }, 'application/merge-patch+json')).status).toBe(400);
    const current = (await send('GET', `${DEPLOYS}/web`)).body;
    current['spec'].paused = true;
    const put = await send('PUT', `${DEPLOYS}/web?fieldManager=erin`, current);
    expect(put.status).toBe(200);
    expect(entry(put.body, 'erin').fieldsV1).toEqual({ 'f:spec': { 'f:paused': {} } });
    const created = await send('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { a: '1' } });
    expect(created.body['metadata'].managedFields).toEqual([expect.objectContaining({ manager: 'unknown', operation: 'Update', fieldsV1: { 'f:data': { 'f:a': {} } } })]);
  });
});
