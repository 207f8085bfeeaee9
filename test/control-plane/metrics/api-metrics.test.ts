import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlPlaneMetrics } from '../../../control-plane/metrics/control-plane-metrics.js';
import { aPod } from '../support/test-resources.js';
import { openTestApi, readEvents, testToken, type TestApi } from '../support/test-api.js';
import { parsePrometheusText } from '../../support/prometheus-text.js';

const podsPath = '/api/v1/namespaces/default/pods';
const users: Record<string, { name: string; groups: string[] }> = {
  [testToken]: { name: 'admin', groups: ['system:masters'] },
  'monitoring-token': { name: 'system:skiff:metrics', groups: ['system:monitoring'] },
  'node-token': { name: 'system:node:n1', groups: ['system:nodes'] },
  'someone-token': { name: 'someone', groups: [] },
};

let api: TestApi;
let metrics: ControlPlaneMetrics;
beforeEach(async () => {
  metrics = new ControlPlaneMetrics({ storeBackend: 'sqlite', processMetrics: false });
  api = await openTestApi({ tokens: (t) => users[t], observer: metrics.api, prometheus: metrics });
});
afterEach(async () => { await api.close(); });

const scrape = async (token = testToken) => {
  const res = await api.app.request('/metrics', { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
};

describe('GET /metrics on the control plane', () => {
  it('counts and times requests by verb, resource, scope and code, as kube-apiserver labels them', async () => {
    expect((await api.call('POST', podsPath, { body: aPod('web') })).status).toBe(201);
    expect((await api.call('GET', podsPath)).status).toBe(200);
    expect((await api.call('GET', `${podsPath}/web`)).status).toBe(200);
    expect((await api.call('GET', `${podsPath}/missing`)).status).toBe(404);
    expect((await api.call('GET', '/apis/apps/v1/deployments')).status).toBe(200);
    expect((await api.call('DELETE', `${podsPath}/web`)).status).toBe(200);
    const m = await scrape();
    expect(m.types.get('apiserver_request_total')).toBe('counter');
    expect(m.types.get('apiserver_request_duration_seconds')).toBe('histogram');
    const core = { group: '', version: 'v1', resource: 'pods', subresource: '' };
    expect(m.sum('apiserver_request_total', { ...core, verb: 'POST', scope: 'namespace', code: '201' })).toBe(1);
    expect(m.sum('apiserver_request_total', { ...core, verb: 'LIST', scope: 'namespace', code: '200' })).toBe(1);
    expect(m.sum('apiserver_request_total', { ...core, verb: 'GET', scope: 'resource', code: '200' })).toBe(1);
    expect(m.sum('apiserver_request_total', { ...core, verb: 'GET', scope: 'resource', code: '404' })).toBe(1);
    expect(m.sum('apiserver_request_total', { ...core, verb: 'DELETE', scope: 'resource', code: '200' })).toBe(1);
    expect(m.sum('apiserver_request_total', { group: 'apps', resource: 'deployments', verb: 'LIST', scope: 'cluster' })).toBe(1);
    expect(m.sum('apiserver_request_duration_seconds_count', { ...core, verb: 'GET', scope: 'resource' })).toBe(2);
    expect(m.find('apiserver_request_duration_seconds_bucket', { ...core, verb: 'LIST', le: '+Inf' })[0]?.value).toBe(1);
  });

  it('counts requests refused before they reach a handler, without minting labels from the path', async () => {
    expect((await api.app.request(podsPath)).status).toBe(401);
    expect((await api.call('GET', '/no/such/path/../../etc/passwd')).status).toBe(404);
    expect((await api.call('GET', `/api/v1/${'x'.repeat(5000)}`)).status).toBe(404);
    const m = await scrape();
    expect(m.sum('apiserver_request_total', { resource: 'pods', verb: 'LIST', code: '401' })).toBe(1);
    expect(m.sum('apiserver_request_total', { resource: 'other', code: '404' })).toBe(1);
    expect(m.sum('apiserver_request_total', { resource: '/api', code: '404' })).toBe(1);
    const resources = new Set(m.find('apiserver_request_total').map((s) => s.labels['resource']));
    for (const r of resources) expect(r!.length).toBeLessThan(40);
  });

  it('keeps open watches as long-running requests and counts the events they carry', async () => {
    const res = await api.call('GET', `${podsPath}?watch=true`);
    await api.call('POST', podsPath, { body: aPod('a') });
    await readEvents(res, 1);
    let m = await scrape();
    expect(m.types.get('apiserver_longrunning_requests')).toBe('gauge');
    expect(m.sum('apiserver_longrunning_requests', { verb: 'WATCH', resource: 'pods', scope: 'namespace' })).toBe(1);
    expect(m.sum('apiserver_watch_events_total', { resource: 'pods' })).toBe(1);
    // a watch is counted, but its duration is not a latency
    expect(m.sum('apiserver_request_duration_seconds_count', { verb: 'WATCH' })).toBe(0);
    await res.body?.cancel();
    m = await scrape();
    expect(m.sum('apiserver_longrunning_requests', { verb: 'WATCH', resource: 'pods' })).toBe(0);
  });

  it('serves the admin and the monitoring identity, and no one else', async () => {
    await scrape(testToken);
    await scrape('monitoring-token');
    for (const token of ['node-token', 'someone-token']) {
      const res = await api.app.request('/metrics', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'Forbidden' });
    }
    expect((await api.app.request('/metrics')).status).toBe(401);
  });

  it('lets the monitoring identity read metrics and nothing else', async () => {
    const as = (method: string, path: string) => api.app.request(path, { method, headers: { authorization: 'Bearer monitoring-token' } });
    for (const [method, path] of [['GET', podsPath], ['GET', '/api'], ['GET', '/apis'], ['GET', '/openapi/v2'], ['POST', podsPath], ['POST', '/metrics'], ['DELETE', `${podsPath}/x`]] as const) {
      expect((await as(method, path)).status, `${method} ${path}`).toBe(403);
    }
    expect((await as('GET', '/version')).status).toBe(200);
  });
});
