// ResourceQuota and LimitRange admission over the API: defaults applied to pods, bounds and quota
// refused with 403 Forbidden worded like the real server, usage counted from live objects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestApi, type TestApi } from '../support/test-api.js';

const NS = '/api/v1/namespaces/default';
type Status = { code: number; reason: string; message: string; details?: { kind?: string; name?: string; causes?: Array<{ field: string; message: string }> } };

const aPod = (name: string, resources?: Record<string, Record<string, string>>, more: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { containers: [{ name: 'main', image: 'registry.local/app:1.0', ...(resources ? { resources } : {}) }], ...more },
});

describe('ResourceQuota and LimitRange admission', () => {
  let api: TestApi;
  const send = async (method: string, path: string, body?: unknown, contentType?: string) => {
    const res = await api.call(method, path, { ...(body !== undefined ? { body } : {}), ...(contentType ? { contentType } : {}) });
    return { status: res.status, body: await res.json() as Status & Record<string, any> };
  };

  beforeAll(async () => {
    api = await openTestApi();
    for (const ns of ['limited', 'quota']) expect((await send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status).toBe(201);
    // the `default` ServiceAccount, as the controller (not running here) would create it
    for (const ns of ['limited', 'quota']) expect((await send('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } })).status).toBe(201);
  });
  afterAll(async () => {
    await api?.close();
  });

  it('defaults a LimitRange as the real server does and validates it', async () => {
    const lr = await send('POST', '/api/v1/namespaces/limited/limitranges', {
      apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'mem' },
      spec: { limits: [{ type: 'Container', max: { memory: '256Mi' }, min: { cpu: '10m' }, default: { cpu: '500m' }, defaultRequest: { memory: '32Mi' } }, { type: 'Pod', max: { cpu: '2' } }] },
    });
    expect(lr.status).toBe(201);
    expect(lr.body.spec.limits[0]).toEqual({ type: 'Container', max: { memory: '256Mi' }, min: { cpu: '10m' }, default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { memory: '32Mi', cpu: '500m' } });
    const bad = await send('POST', '/api/v1/namespaces/limited/limitranges', {
      apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'bad' },
      spec: { limits: [{ type: 'Box' }, { type: 'Container', min: { memory: '2Gi' }, max: { memory: '1Gi' } }, { type: 'Pod', default: { cpu: '1' } }] },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.details?.causes?.map((c) => `${c.field}: ${c.message}`)).toEqual(expect.arrayContaining([
      'spec.limits[0].type: Unsupported value: "Box": supported values: "Pod", "Container", "PersistentVolumeClaim"',
      'spec.limits[1].min[memory]: Invalid value: "2Gi": min value 2Gi is greater than max value 1Gi',
      expect.stringMatching(/^spec\.limits\[2\]\.default: Invalid value: .*may not be specified when `type` is not 'Container'$/),
    ]));
  });

  it('gives pods the default limits and requests and refuses what exceeds the bounds with 403', async () => {
    const pod = await send('POST', '/api/v1/namespaces/limited/pods', aPod('plain'));
    expect(pod.status).toBe(201);
    expect(pod.body.spec.containers[0].resources).toEqual({ limits: { cpu: '500m', memory: '256Mi' }, requests: { memory: '32Mi', cpu: '500m' } });
    expect(pod.body.metadata.annotations['kubernetes.io/limit-ranger']).toBe('LimitRanger plugin set: cpu, memory request for container main; cpu, memory limit for container main');
    const big = await send('POST', '/api/v1/namespaces/limited/pods', aPod('big', { limits: { memory: '1Gi', cpu: '3' } }));
    expect(big.status).toBe(403);
    expect(big.body).toMatchObject({ reason: 'Forbidden', details: { kind: 'pods', name: 'big' } });
    expect(big.body.message).toBe('pods "big" is forbidden: [maximum memory usage per Container is 256Mi, but limit is 1Gi, maximum cpu usage per Pod is 2, but limit is 3]');
    const small = await send('POST', '/api/v1/namespaces/limited/pods', aPod('small', { requests: { cpu: '5m' } }));
    expect(small.body.message).toBe('pods "small" is forbidden: [minimum cpu usage per Container is 10m, but request is 5m]');
  });

  it('refuses pods beyond a quota with 403 and counts cpu and memory', async () => {
    const q = await send('POST', '/api/v1/namespaces/quota/resourcequotas', {
      apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'compute' }, spec: { hard: { pods: '2', 'requests.memory': '100Mi', 'count/configmaps': '1' } },
    });
    expect(q.status).toBe(201);
    const unspecified = await send('POST', '/api/v1/namespaces/quota/pods', aPod('no-requests'));
    expect(unspecified.status).toBe(403);
    expect(unspecified.body.message).toBe('pods "no-requests" is forbidden: failed quota: compute: must specify requests.memory for: main');
    expect((await send('POST', '/api/v1/namespaces/quota/pods', aPod('a', { requests: { memory: '60Mi' } }))).status).toBe(201);
    const tooMuch = await send('POST', '/api/v1/namespaces/quota/pods', aPod('b', { requests: { memory: '60Mi' } }));
    expect(tooMuch.status).toBe(403);
    expect(tooMuch.body.message).toBe('pods "b" is forbidden: exceeded quota: compute, requested: requests.memory=60Mi, used: requests.memory=60Mi, limited: requests.memory=100Mi');
    expect((await send('POST', '/api/v1/namespaces/quota/pods', aPod('c', { requests: { memory: '40Mi' } }))).status).toBe(201);
    const third = await send('POST', '/api/v1/namespaces/quota/pods', aPod('d', { requests: { memory: '1Ki' } }));
    expect(third.body.message).toBe('pods "d" is forbidden: exceeded quota: compute, requested: pods=1,requests.memory=1Ki, used: pods=2,requests.memory=100Mi, limited: pods=2,requests.memory=100Mi');
    // a finished pod no longer counts
    await api.resources.mutate<any>((await import('../../../control-plane/resources/resource-types.js')).resourceTypes.pods, 'quota', 'c',
      (p) => ({ ...p, status: { ...p.status, phase: 'Succeeded' } }), { subresource: 'status' });
    expect((await send('POST', '/api/v1/namespaces/quota/pods', aPod('e', { requests: { memory: '40Mi' } }))).status).toBe(201);
    const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
    expect((await send('POST', '/api/v1/namespaces/quota/configmaps', cm('one'))).status).toBe(201);
    expect((await send('POST', '/api/v1/namespaces/quota/configmaps', cm('two'))).body.message)
      .toBe('configmaps "two" is forbidden: exceeded quota: compute, requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1');
    // other namespaces are not limited
    expect((await send('POST', `${NS}/configmaps`, cm('free'))).status).toBe(201);
  });

  it('range-checks and validates quota quantities', async () => {
    const bad = await send('POST', '/api/v1/namespaces/quota/resourcequotas', {
      apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'bad' }, spec: { hard: { pods: 'lots', 'bad key!': '1', memory: '-1' }, scopes: ['Sometimes'] },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain('spec.hard[pods]');
    expect(bad.body.message).toContain('spec.hard[bad key!]');
    expect(bad.body.message).toContain('spec.scopes[0]: Unsupported value: "Sometimes"');
  });
});
