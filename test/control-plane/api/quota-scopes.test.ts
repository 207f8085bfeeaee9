// ResourceQuota scopes and the quota ledger over the API: BestEffort/NotBestEffort, Terminating/
// NotTerminating and PriorityClass scope selectors decide which pods a quota counts, scope
// selectors are validated like the real server, and racing creates cannot both pass one quota.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestApi, type TestApi } from '../support/test-api.js';

type Status = { code: number; reason: string; message: string; details?: { causes?: Array<{ field: string; message: string }> } };
const aPod = (name: string, spec: Record<string, unknown> = {}, requests?: Record<string, string>) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { containers: [{ name: 'main', image: 'registry.local/app:1.0', ...(requests ? { resources: { requests } } : {}) }], ...spec },
});
const aQuota = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name }, spec });

describe('ResourceQuota scopes and the quota ledger', () => {
  let api: TestApi;
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await api.call(method, path, body !== undefined ? { body } : {});
    return { status: res.status, body: await res.json() as Status & Record<string, any> };
  };
  const pods = (ns: string) => `/api/v1/namespaces/${ns}/pods`;

  beforeAll(async () => {
    api = await openTestApi();
    for (const ns of ['effort', 'prio', 'deadline', 'race']) expect((await send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status).toBe(201);
    // the `default` ServiceAccount, as the controller (not running here) would create it
    for (const ns of ['effort', 'prio', 'deadline', 'race']) expect((await send('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } })).status).toBe(201);
    expect((await send('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'gold' }, value: 100 })).status).toBe(201);
  });
  afterAll(async () => {
    await api?.close();
  });

  it('counts only the pods a BestEffort or NotBestEffort quota scopes', async () => {
    expect((await send('POST', '/api/v1/namespaces/effort/resourcequotas', aQuota('be', { hard: { pods: '1' }, scopes: ['BestEffort'] }))).status).toBe(201);
    expect((await send('POST', '/api/v1/namespaces/effort/resourcequotas', aQuota('nbe', { hard: { 'requests.memory': '64Mi' }, scopes: ['NotBestEffort'] }))).status).toBe(201);
    expect((await send('POST', pods('effort'), aPod('free-1'))).status).toBe(201);
    const second = await send('POST', pods('effort'), aPod('free-2'));
    expect(second.status).toBe(403);
    expect(second.body.message).toBe('pods "free-2" is forbidden: exceeded quota: be, requested: pods=1, used: pods=1, limited: pods=1');
    expect((await send('POST', pods('effort'), aPod('sized-1', {}, { memory: '48Mi' }))).status).toBe(201);
    const big = await send('POST', pods('effort'), aPod('sized-2', {}, { memory: '32Mi' }));
    expect(big.status).toBe(403);
    expect(big.body.message).toContain('exceeded quota: nbe');
  });

  it('scopes by priority class and by activeDeadlineSeconds', async () => {
    expect((await send('POST', '/api/v1/namespaces/prio/resourcequotas', aQuota('gold-only', {
      hard: { pods: '1' }, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['gold'] }] },
    }))).status).toBe(201);
    expect((await send('POST', pods('prio'), aPod('gold-1', { priorityClassName: 'gold' }))).status).toBe(201);
    expect((await send('POST', pods('prio'), aPod('gold-2', { priorityClassName: 'gold' }))).status).toBe(403);
    expect((await send('POST', pods('prio'), aPod('plain'))).status).toBe(201);

    expect((await send('POST', '/api/v1/namespaces/deadline/resourcequotas', aQuota('batch', { hard: { pods: '1' }, scopes: ['Terminating'] }))).status).toBe(201);
    expect((await send('POST', pods('deadline'), aPod('job-1', { activeDeadlineSeconds: 60 }))).status).toBe(201);
    expect((await send('POST', pods('deadline'), aPod('job-2', { activeDeadlineSeconds: 60 }))).status).toBe(403);
    expect((await send('POST', pods('deadline'), aPod('service-1'))).status).toBe(201);
    expect((await send('POST', '/api/v1/namespaces/deadline/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } })).status).toBe(201);
  });

  it('validates scope selectors as the real server does', async () => {
    const bad = await send('POST', '/api/v1/namespaces/prio/resourcequotas', aQuota('bad', {
      hard: { pods: '1' },
      scopeSelector: { matchExpressions: [
        { scopeName: 'PriorityClass', operator: 'In' }, { scopeName: 'Shiny', operator: 'Exists' },
        { scopeName: 'BestEffort', operator: 'DoesNotExist' }, { scopeName: 'PriorityClass', operator: 'Exists', values: ['x'] },
      ] },
    }));
    expect(bad.status).toBe(422);
    expect(bad.body.details?.causes?.map((c) => c.field)).toEqual([
      'spec.scopeSelector.matchExpressions[0].values', 'spec.scopeSelector.matchExpressions[1].scopeName',
      'spec.scopeSelector.matchExpressions[2].operator', 'spec.scopeSelector.matchExpressions[3].values',
    ]);
  });

  it('admits exactly as many racing creates as the quota allows', async () => {
    expect((await send('POST', '/api/v1/namespaces/race/resourcequotas', aQuota('two', { hard: { pods: '2', configmaps: '3' } }))).status).toBe(201);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => send('POST', pods('race'), aPod(`racer-${i}`))));
    expect(results.filter((r) => r.status === 201)).toHaveLength(2);
    expect(results.filter((r) => r.status === 403)).toHaveLength(10);
    const maps = await Promise.all(Array.from({ length: 8 }, (_, i) => send('POST', '/api/v1/namespaces/race/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `m${i}` } })));
    expect(maps.filter((r) => r.status === 201)).toHaveLength(3);
    expect((await send('GET', pods('race'))).body['items']).toHaveLength(2);
  });
});
