// One authorization pipeline for every route: walks every entry of the API's route table with the
// admin, a node's credential, the bootstrap token and no token, and asserts what each may do.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../../control-plane/api/api-app.js';
import { clusterTokenAuthenticator } from '../../../control-plane/credentials.js';
import { mountNodeCredentialRoutes } from '../../../control-plane/nodes/node-credential-routes.js';
import { mountRelayRoutes } from '../../../control-plane/nodes/relay-routes.js';
import { mountRelayUdpRoutes } from '../../../control-plane/nodes/relay-udp-routes.js';
import { NodeCredentials } from '../../../control-plane/nodes/node-credentials.js';
import { ComponentRegistry } from '../../../control-plane/registry/component-registry.js';
import { mountRegistryRoutes } from '../../../control-plane/registry/registry-routes.js';
import { allResourceTypes, resourceTypes, type ResourceType } from '../../../control-plane/resources/resource-types.js';
import { openRbacApi, type RbacApi } from '../support/rbac-api.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

const tokens = { admin: 'admin-token', bootstrap: 'bootstrap-token', node: 'node-1-credential' };
const digest = `sha256:${'ab'.repeat(32)}`;

interface Probe { method: string; path: string; route: string }

/** Concrete requests for one route table entry (params filled in, resource routes expanded over every kind). */
function probesFor(route: { method: string; path: string }): Probe[] {
  const at = (method: string, path: string): Probe => ({ method, path, route: `${route.method} ${route.path}` });
  const methods = route.method === 'ALL' ? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] : [route.method];
  if (route.path === '/api/v1/*' || route.path === '/apis/:group/:version/*') {
    const types = allResourceTypes.filter((t) => (t.group === '') === (route.path === '/api/v1/*'));
    return types.flatMap((t) => resourcePaths(t).flatMap((p) => methods.map((m) => at(m, p))));
  }
  const path = route.path
    .replace(':digest', digest).replace(':node', 'node-9').replace(':group', 'apps').replace(':version', 'v1')
    .replace(/\/\*$/, route.path.startsWith('/openapi/v3') ? '/api/v1' : '/pods');
  return methods.map((m) => at(m, path));
}

function resourcePaths(t: ResourceType): string[] {
  const base = t.group ? `/apis/${t.group}/${t.version}` : '/api/v1';
  const collection = t.namespaced ? `${base}/namespaces/default/${t.plural}` : `${base}/${t.plural}`;
  const named = `${collection}/some-name`;
  const extra = t.plural === 'pods' ? ['exec', 'attach', 'portforward', 'proxy'] : t.plural === 'nodes' || t.plural === 'services' ? ['proxy'] : [];
  return [collection, ...(t.namespaced ? [`${base}/${t.plural}`] : []), named, `${base}/watch/${t.namespaced ? `namespaces/default/${t.plural}` : t.plural}`,
    ...[...t.subresources, ...extra].map((s) => `${named}/${s}`)];
}

/** Self reviews (whoami, can-i, can-i --list) tell a caller only about itself: every identity may make them. */
const SELF_REVIEW = /^POST \/apis\/(authorization\.k8s\.io\/v1\/selfsubject(access|rules)reviews|authentication\.k8s\.io\/v1\/selfsubjectreviews)\b/;

describe('authorization of every route', () => {
  let t: TestResources;
  let app: Hono;
  let dir: string;
  let probes: Probe[];
  const send = (p: Probe, token?: string) => app.request(p.path, {
    method: p.method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(['POST', 'PUT', 'PATCH'].includes(p.method) ? { 'content-type': p.method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' } : {}),
    },
    ...(['POST', 'PUT', 'PATCH'].includes(p.method) ? { body: '{}' } : {}),
  });

  beforeAll(async () => {
    t = await openTestResources();
    dir = await mkdtemp(join(tmpdir(), 'skiff-authz-'));
    const nodeCredentials = await NodeCredentials.open(t.store);
    const registry = new ComponentRegistry(t.store, join(dir, 'blobs'));
    app = createApiApp({
      resources: t.resources,
      tokens: clusterTokenAuthenticator({ adminToken: tokens.admin, nodeToken: tokens.bootstrap }, { nodeFor: (s) => (s === tokens.node ? 'node-1' : undefined) }),
      extraRoutes: (api) => {
        mountNodeCredentialRoutes(api, nodeCredentials);
        mountRegistryRoutes(api, registry);
        mountRelayRoutes(api, t.resources, () => undefined);
        mountRelayUdpRoutes(api, t.resources, () => undefined);
      },
    });
    await t.resources.create(resourceTypes.pods, aPod('some-name', { nodeName: 'node-1' }));
    const routes = app.routes.filter((r) => r.path !== '/*');
    probes = routes.flatMap((r) => probesFor(r));
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('walks every route of the table, resource routes over every kind', () => {
    const walked = new Set(probes.map((p) => p.route));
    for (const r of app.routes.filter((x) => x.path !== '/*')) expect(walked).toContain(`${r.method} ${r.path}`);
    expect(probes.length).toBeGreaterThan(500);
  });

  it('confines a node credential to fetching component blobs and relaying pod traffic', async () => {
    const allowed: string[] = [];
    for (const p of probes) {
      const res = await send(p, tokens.node);
      if (res.status !== 403) allowed.push(`${p.method} ${p.path} -> ${res.status}`);
      else expect((await res.json() as { reason: string }).reason).toBe('Forbidden');
    }
    expect(allowed.filter((a) => !/^GET \/(healthz|readyz|livez|version) /.test(a) && !SELF_REVIEW.test(a))).toEqual([`GET /registry/v1/blobs/${digest} -> 404`, 'POST /skiff/v1/relay/node-9 -> 422', 'POST /skiff/v1/relay/node-9/udp -> 422']);
    expect(allowed.filter((a) => SELF_REVIEW.test(a))).toHaveLength(3); // whoami, can-i, can-i --list about itself
  });

  it('lets the bootstrap token only request a node credential', async () => {
    const allowed: string[] = [];
    for (const p of probes) {
      const res = await send(p, tokens.bootstrap);
      if (res.status !== 403) allowed.push(`${p.method} ${p.path}`);
    }
    expect(allowed.filter((a) => !/^GET \/(healthz|readyz|livez|version)$/.test(a) && !SELF_REVIEW.test(a))).toEqual(['POST /skiff/v1/node-credentials/node-9']);
    expect(allowed.filter((a) => SELF_REVIEW.test(a))).toHaveLength(3);
  });

  it('answers 401 without a valid token except for health probes and /version', async () => {
    const open: string[] = [];
    for (const p of probes) {
      for (const token of [undefined, 'wrong-token']) {
        const res = await send(p, token);
        if (res.status !== 401) open.push(`${p.method} ${p.path} ${token ?? ''}`.trim());
      }
    }
    expect(open.sort()).toEqual(['GET /healthz', 'GET /livez', 'GET /readyz', 'GET /version'].flatMap((x) => [x, `${x} wrong-token`]).sort());
  });

  it('never forbids the admin anything', async () => {
    for (const p of probes) {
      if (p.method === 'DELETE') continue; // keep the namespace and the pod for the other walks
      expect(`${p.method} ${p.path} -> ${(await send(p, tokens.admin)).status}`).not.toMatch(/-> 403$/);
    }
  });

  it('words a refusal like the real API server', async () => {
    const res = await send({ method: 'GET', path: '/api/v1/namespaces/default/pods/some-name/exec?command=env', route: '' }, tokens.node);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      kind: 'Status', reason: 'Forbidden', code: 403, details: { kind: 'pods', name: 'some-name' },
      message: expect.stringMatching(/^pods "some-name" is forbidden: User "system:node:node-1" cannot create resource "pods\/exec" in API group "" in the namespace "default"/),
    });
    const secrets = await send({ method: 'GET', path: '/api/v1/secrets', route: '' }, tokens.node);
    expect((await secrets.json() as { message: string }).message).toMatch(/^secrets is forbidden: User "system:node:node-1" cannot list resource "secrets" in API group "" at the cluster scope/);
  });
});

// NodeRestriction with RBAC on: a node identity bound (by a careless or hostile binding) to
// cluster-admin, walking every route, reviews and TokenRequest included, still only fetches blobs;
// and it cannot borrow another identity through impersonation headers.
describe('node identities with RBAC on', () => {
  let api: RbacApi;
  let side: TestResources;
  let dir: string;
  let probes: Probe[];
  const send = (p: Probe, headers: Record<string, string> = {}) => api.app.request(p.path, {
    method: p.method,
    headers: {
      authorization: `Bearer ${tokens.node}`, ...headers,
      ...(['POST', 'PUT', 'PATCH'].includes(p.method) ? { 'content-type': p.method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' } : {}),
    },
    ...(['POST', 'PUT', 'PATCH'].includes(p.method) ? { body: '{}' } : {}),
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-authz-rbac-'));
    // the registry and node credentials on a store of their own: the routes are mounted when the app is made
    side = await openTestResources();
    const nodeCredentials = await NodeCredentials.open(side.store);
    const registry = new ComponentRegistry(side.store, join(dir, 'blobs'));
    api = await openRbacApi({
      tokens: clusterTokenAuthenticator({ adminToken: tokens.admin, nodeToken: tokens.bootstrap }, { nodeFor: (s) => (s === tokens.node ? 'node-1' : undefined) }),
      extraRoutes: (app) => {
        mountNodeCredentialRoutes(app, nodeCredentials);
        mountRegistryRoutes(app, registry);
      },
    });
    for (const [kind, name] of [['Group', 'system:nodes'], ['User', 'system:node:node-1'], ['Group', 'system:authenticated']] as const) {
      await api.resources.create(resourceTypes.clusterrolebindings, {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `hostile-${name.replace(/:/g, '-')}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind, apiGroup: 'rbac.authorization.k8s.io', name }],
      });
    }
    await api.eventually(async () => expect([...api.rbac.clusterRoleBindings()].filter((b) => b.metadata.name?.startsWith('hostile-'))).toHaveLength(3));
    await api.resources.create(resourceTypes.pods, aPod('some-name', { nodeName: 'node-1' }));
    probes = api.app.routes.filter((r) => r.path !== '/*').flatMap((r) => probesFor(r));
  });
  afterAll(async () => {
    await api?.close();
    await side?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('walks the review and token routes too', () => {
    const walked = new Set(probes.map((p) => p.route));
    expect(walked).toContain('POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
    expect(probes.some((p) => p.path.endsWith('/serviceaccounts/some-name/token'))).toBe(true);
  });

  it('confines a node credential to fetching component blobs whatever RBAC grants', async () => {
    const allowed: string[] = [];
    for (const p of probes) {
      const res = await send(p);
      if (res.status !== 403) allowed.push(`${p.method} ${p.path} -> ${res.status}`);
    }
    expect(allowed.filter((a) => !/^GET \/(healthz|readyz|livez|version) /.test(a) && !SELF_REVIEW.test(a))).toEqual([`GET /registry/v1/blobs/${digest} -> 404`]);
    expect(allowed.filter((a) => SELF_REVIEW.test(a))).toHaveLength(3); // whoami, can-i, can-i --list about itself
  });

  it('cannot impersonate anyone', async () => {
    const attempts: Array<Record<string, string>> = [{ 'Impersonate-User': 'admin', 'Impersonate-Group': 'system:masters' }, { 'Impersonate-User': 'system:serviceaccount:default:default' }];
    for (const headers of attempts) {
      const res = await send({ method: 'GET', path: '/api/v1/secrets', route: '' }, headers);
      expect(res.status).toBe(403);
      expect((await res.json() as { message: string }).message).toContain('cannot impersonate');
    }
  });
});
