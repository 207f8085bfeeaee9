import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aDeployment, aJob, aService } from '../support/sample-objects.js';
import { aPod } from '../support/test-resources.js';
import { openTestApi, tableAccept, type TestApi } from '../support/test-api.js';

let api: TestApi;
beforeEach(async () => { api = await openTestApi(); });
afterEach(async () => { await api.close(); });

const deploys = '/apis/apps/v1/namespaces/default/deployments';

describe('scale subresource', () => {
  it('serves an autoscaling/v1 Scale and writes spec.replicas through a merge patch', async () => {
    await api.call('POST', deploys, { body: aDeployment('web', { replicas: 2 }) });
    const scale = await (await api.call('GET', `${deploys}/web/scale`)).json() as any;
    expect(scale).toMatchObject({ apiVersion: 'autoscaling/v1', kind: 'Scale', spec: { replicas: 2 }, status: { replicas: 0, selector: 'app=web' } });
    const res = await api.call('PATCH', `${deploys}/web/scale`, { body: { spec: { replicas: 5 } }, contentType: 'application/merge-patch+json' });
    expect(res.status).toBe(200);
    expect((await res.json() as any).spec.replicas).toBe(5);
    const d = await (await api.call('GET', `${deploys}/web`)).json() as any;
    expect(d.spec.replicas).toBe(5);
    expect(d.metadata.generation).toBe(2);
  });

  it('updates with PUT, answers a stale resourceVersion with 409 and negative replicas with 422', async () => {
    await api.call('POST', deploys, { body: aDeployment('web') });
    const scale = await (await api.call('GET', `${deploys}/web/scale`)).json() as any;
    const ok = await api.call('PUT', `${deploys}/web/scale`, { body: { ...scale, spec: { replicas: 3 } } });
    expect((await ok.json() as any).spec.replicas).toBe(3);
    expect((await api.call('PUT', `${deploys}/web/scale`, { body: { ...scale, spec: { replicas: 4 } } })).status).toBe(409);
    const bad = await api.call('PATCH', `${deploys}/web/scale`, { body: { spec: { replicas: -1 } }, contentType: 'application/merge-patch+json' });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ reason: 'Invalid', message: 'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0' });
  });
});

describe('pods/eviction', () => {
  it('deletes the pod gracefully and answers 201 Success', async () => {
    await api.call('POST', '/api/v1/namespaces/default/pods', { body: aPod('web', { nodeName: 'n1' }) });
    const res = await api.call('POST', '/api/v1/namespaces/default/pods/web/eviction', {
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'web', namespace: 'default' } },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ kind: 'Status', status: 'Success', code: 201 });
    const pod = await (await api.call('GET', '/api/v1/namespaces/default/pods/web')).json() as any;
    expect(pod.metadata.deletionTimestamp).toBeDefined();
    expect((await api.call('POST', '/api/v1/namespaces/default/pods/nope/eviction', { body: { metadata: { name: 'nope' } } })).status).toBe(404);
  });
});

describe('tables of the workload and service kinds', () => {
  const table = async (path: string) => (await (await api.call('GET', path, { accept: tableAccept })).json()) as any;
  const names = (t: any) => t.columnDefinitions.map((c: any) => c.name);

  it('deployments: NAME READY UP-TO-DATE AVAILABLE AGE (+CONTAINERS IMAGES SELECTOR)', async () => {
    await api.call('POST', deploys, { body: aDeployment('web', { replicas: 3 }) });
    const t = await table(deploys);
    expect(names(t)).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
    expect(t.rows[0].cells).toEqual(['web', '0/3', 0, 0, '0s', 'main', 'registry.local/hello:1.0', 'app=web']);
  });

  it('services: TYPE CLUSTER-IP EXTERNAL-IP PORT(S)', async () => {
    await api.call('POST', '/api/v1/namespaces/default/services', { body: aService('web', { type: 'NodePort', clusterIP: '10.43.1.2' }) });
    const t = await table('/api/v1/namespaces/default/services');
    expect(names(t).slice(0, 6)).toEqual(['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age']);
    expect(t.rows[0].cells.slice(0, 5)).toEqual(['web', 'NodePort', '10.43.1.2', '<none>', expect.stringMatching(/^80:3\d{4}\/TCP$/)]);
  });

  it('jobs: STATUS COMPLETIONS DURATION; secrets TYPE DATA; configmaps DATA', async () => {
    await api.call('POST', '/apis/batch/v1/namespaces/default/jobs', { body: aJob('pi') });
    const jobs = await table('/apis/batch/v1/namespaces/default/jobs');
    expect(names(jobs).slice(0, 5)).toEqual(['Name', 'Status', 'Completions', 'Duration', 'Age']);
    expect(jobs.rows[0].cells.slice(0, 4)).toEqual(['pi', 'Running', '0/1', '']);
    await api.call('POST', '/api/v1/namespaces/default/secrets', { body: { metadata: { name: 's' }, stringData: { a: 'b', c: 'd' } } });
    expect((await table('/api/v1/namespaces/default/secrets')).rows[0].cells.slice(0, 3)).toEqual(['s', 'Opaque', 2]);
    await api.call('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'c' }, data: { a: 'b' } } });
    expect((await table('/api/v1/namespaces/default/configmaps')).rows[0].cells.slice(0, 2)).toEqual(['c', 1]);
  });

  it('lists the new kinds in discovery with their short names and subresources', async () => {
    const apps = await (await api.call('GET', '/apis/apps/v1')).json() as any;
    const byName = new Map(apps.resources.map((r: any) => [r.name, r]));
    expect(byName.get('deployments')).toMatchObject({ kind: 'Deployment', shortNames: ['deploy'], categories: ['all'] });
    expect(byName.get('deployments/scale')).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    const core = await (await api.call('GET', '/api/v1')).json() as any;
    expect(core.resources.find((r: any) => r.name === 'pods/eviction')).toMatchObject({ group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
    const autoscaling = await (await api.call('GET', '/apis/autoscaling')).json() as any;
    expect(autoscaling.preferredVersion.version).toBe('v2');
  });
});
