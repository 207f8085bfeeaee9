import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestApi, type TestApi } from '../support/test-api.js';

let api: TestApi;
beforeAll(async () => { api = await openTestApi(); });
afterAll(async () => { await api.close(); });

describe('authentication', () => {
  it('answers 401 with a Status without a valid bearer token', async () => {
    for (const authorization of [undefined, 'Bearer wrong', 'Basic abc']) {
      const res = await api.app.request('/api/v1/pods', { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 });
    }
  });

  it('serves version and health probes without a token', async () => {
    const res = await api.app.request('/version');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ major: '1', minor: '32', gitVersion: 'v1.32.0-skiff' });
    expect(await (await api.app.request('/healthz')).text()).toBe('ok');
    expect((await api.app.request('/readyz')).status).toBe(200);
  });
});

describe('discovery', () => {
  it('lists core resources with subresources, short names and categories', async () => {
    const body = await (await api.call('GET', '/api/v1')).json() as { groupVersion: string; resources: Array<Record<string, any>> };
    expect(body.groupVersion).toBe('v1');
    const byName = new Map(body.resources.map((r) => [r['name'], r]));
    expect(byName.get('pods')).toMatchObject({ kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'] });
    expect(byName.get('pods')?.['verbs']).toEqual(expect.arrayContaining(['create', 'get', 'list', 'watch', 'patch', 'delete', 'deletecollection', 'update']));
    expect(byName.get('pods/status')).toMatchObject({ kind: 'Pod', verbs: ['get', 'patch', 'update'] });
    expect(byName.get('pods/log')).toMatchObject({ verbs: ['get'] });
    expect(byName.get('pods/binding')).toMatchObject({ kind: 'Binding', verbs: ['create'] });
    expect(byName.get('namespaces')).toMatchObject({ namespaced: false, shortNames: ['ns'] });
    expect(byName.get('nodes')).toMatchObject({ shortNames: ['no'] });
    expect(byName.get('events')).toMatchObject({ shortNames: ['ev'] });
  });

  it('serves legacy API versions and groups', async () => {
    expect(await (await api.call('GET', '/api')).json()).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = await (await api.call('GET', '/apis')).json() as { groups: Array<{ name: string }> };
    expect(groups.groups.map((g) => g.name)).toContain('coordination.k8s.io');
    const leases = await (await api.call('GET', '/apis/coordination.k8s.io/v1')).json() as { resources: Array<{ name: string }> };
    expect(leases.resources.map((r) => r.name)).toEqual(['leases']);
    expect((await api.call('GET', '/apis/nope.example.com/v1')).status).toBe(404);
  });

  it('answers aggregated discovery when the Accept header asks for it', async () => {
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
    const res = await api.call('GET', '/api', { accept });
    expect(res.headers.get('content-type')).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    const body = await res.json() as { kind: string; items: Array<{ metadata: { name: string }; versions: Array<{ resources: Array<Record<string, any>> }> }> };
    expect(body.kind).toBe('APIGroupDiscoveryList');
    expect(body.items[0]?.metadata.name).toBe('');
    const pods = body.items[0]?.versions[0]?.resources.find((r) => r['resource'] === 'pods');
    expect(pods).toMatchObject({ scope: 'Namespaced', shortNames: ['po'], categories: ['all'], responseKind: { group: '', version: 'v1', kind: 'Pod' } });
    expect(pods?.['subresources'].map((s: { subresource: string }) => s.subresource)).toEqual(['status', 'log', 'binding', 'eviction', 'exec', 'attach', 'portforward']);
    const apis = await (await api.call('GET', '/apis', { accept })).json() as { items: Array<{ metadata: { name: string } }> };
    expect(apis.items.map((i) => i.metadata.name)).toEqual(['coordination.k8s.io', 'apps', 'batch', 'policy', 'scheduling.k8s.io', 'autoscaling', 'networking.k8s.io', 'discovery.k8s.io', 'storage.k8s.io', 'rbac.authorization.k8s.io',
      'authorization.k8s.io', 'authentication.k8s.io', 'metrics.k8s.io']);
  });

  it('publishes OpenAPI v3 patch operations with their group-version-kind and fieldValidation', async () => {
    const index = await (await api.call('GET', '/openapi/v3')).json() as { paths: Record<string, { serverRelativeURL: string }> };
    expect(Object.keys(index.paths)).toEqual(['api/v1', 'apis/coordination.k8s.io/v1', 'apis/apps/v1', 'apis/batch/v1', 'apis/policy/v1',
      'apis/scheduling.k8s.io/v1', 'apis/autoscaling/v2', 'apis/networking.k8s.io/v1', 'apis/discovery.k8s.io/v1', 'apis/storage.k8s.io/v1',
      'apis/rbac.authorization.k8s.io/v1', 'apis/autoscaling/v1', 'apis/authorization.k8s.io/v1', 'apis/authentication.k8s.io/v1']);
    const doc = await (await api.call('GET', index.paths['api/v1']!.serverRelativeURL)).json() as { paths: Record<string, any> };
    const patch = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}']?.patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: '', version: 'v1', kind: 'Pod' });
    expect(patch.parameters.map((p: { name: string }) => p.name)).toContain('fieldValidation');
    expect((await api.call('GET', '/openapi/v2')).status).toBe(200); // test/control-plane/api/openapi-v2.test.ts
  });

  it('answers unknown paths with a NotFound Status', async () => {
    const res = await api.call('GET', '/api/v1/widgets');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'the server could not find the requested resource' });
    expect((await api.call('GET', '/nothing/here')).status).toBe(404);
  });
});
