// RBAC as the real API server enforces it: bootstrap roles (cluster-admin for system:masters,
// aggregated admin/edit/view), Role/ClusterRole + RoleBinding/ClusterRoleBinding on every route
// (subresources and watches included), node identities confined whatever is bound, and privilege
// escalation refused on writes to roles and bindings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterRole } from '../../../control-plane/resources/kinds/rbac.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { openRbacApi, type Caller, type RbacApi } from '../support/rbac-api.js';
import { aPod } from '../support/test-resources.js';

const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const binding = (kind: 'RoleBinding' | 'ClusterRoleBinding', name: string, roleKind: string, role: string, subjects: unknown[], namespace?: string) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name, ...(namespace ? { namespace } : {}) },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: role }, subjects,
});
const user = (name: string) => ({ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name });

describe('RBAC', () => {
  let api: RbacApi;
  let alice: Caller;
  let bob: Caller;
  let carol: Caller;

  beforeAll(async () => {
    api = await openRbacApi();
    alice = api.as({ name: 'alice', groups: ['devs'] });
    bob = api.as({ name: 'bob' });
    carol = api.as({ name: 'carol' });
    await api.admin('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    await api.admin('POST', '/api/v1/namespaces/team/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } }); // as the controller would
    await api.resources.create(resourceTypes.pods, aPod('web', { namespace: 'team' }));
  });
  afterAll(async () => api?.close());

  it('serves the bootstrap roles, with admin/edit/view aggregated from their parts', async () => {
    const list = await (await api.admin('GET', `${RBAC}/clusterroles`)).json() as { items: ClusterRole[] };
    const names = list.items.map((r) => r.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['cluster-admin', 'admin', 'edit', 'view', 'system:basic-user', 'system:node']));
    await api.eventually(async () => {
      const rules = async (name: string) => ((await (await api.admin('GET', `${RBAC}/clusterroles/${name}`)).json()) as ClusterRole).rules ?? [];
      const view = await rules('view');
      const edit = await rules('edit');
      const admin = await rules('admin');
      expect(view.some((r) => r.resources?.includes('pods') && r.verbs.includes('list'))).toBe(true);
      expect(view.some((r) => r.resources?.includes('secrets'))).toBe(false);
      expect(edit.length).toBeGreaterThan(view.length);
      expect(admin.some((r) => r.resources?.includes('rolebindings'))).toBe(true);
      for (const r of view) expect(edit).toContainEqual(r);
      for (const r of edit) expect(admin).toContainEqual(r);
    });
    const crb = await (await api.admin('GET', `${RBAC}/clusterrolebindings/cluster-admin`)).json() as { subjects: unknown[] };
    expect(crb.subjects).toEqual([{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:masters' }]);
  });

  it('forbids what nothing grants, in the real server\'s words; discovery stays open', async () => {
    const res = await alice('GET', '/api/v1/namespaces/team/pods');
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      reason: 'Forbidden',
      message: 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team"',
    });
    expect((await alice('GET', '/api')).status).toBe(200);
    expect((await alice('GET', '/apis')).status).toBe(200);
  });

  it('a RoleBinding to view grants reads in its namespace only, no writes, no secrets, no exec', async () => {
    expect((await api.admin('POST', `${RBAC}/namespaces/team/rolebindings`, binding('RoleBinding', 'alice-view', 'ClusterRole', 'view', [user('alice')]))).status).toBe(201);
    await api.eventually(async () => expect((await alice('GET', '/api/v1/namespaces/team/pods')).status).toBe(200));
    expect((await alice('GET', '/api/v1/namespaces/team/pods/web')).status).toBe(200);
    expect((await alice('GET', '/api/v1/namespaces/team/pods?watch=true&timeoutSeconds=1')).status).toBe(200);
    expect((await alice('GET', '/api/v1/namespaces/team/pods/web/log')).status).not.toBe(403);
    expect((await alice('GET', '/api/v1/namespaces/default/pods')).status).toBe(403);
    expect((await alice('GET', '/api/v1/pods')).status).toBe(403);
    expect((await alice('GET', '/api/v1/namespaces/team/secrets')).status).toBe(403);
    expect((await alice('POST', '/api/v1/namespaces/team/pods', aPod('x', { namespace: 'team' }))).status).toBe(403);
    expect((await alice('DELETE', '/api/v1/namespaces/team/pods/web')).status).toBe(403);
    expect((await alice('POST', '/api/v1/namespaces/team/pods/web/exec?command=sh')).status).toBe(403);
    expect((await alice('GET', '/api/v1/namespaces/team/pods/web/attach')).status).toBe(403);
    expect((await alice('PATCH', '/api/v1/namespaces/team/pods/web/status', { status: {} })).status).toBe(403);
  });

  it('a group subject and a ClusterRoleBinding grant cluster-wide', async () => {
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'node-reader' },
      rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }] };
    expect((await api.admin('POST', `${RBAC}/clusterroles`, role)).status).toBe(201);
    expect((await api.admin('POST', `${RBAC}/clusterrolebindings`, binding('ClusterRoleBinding', 'devs-nodes', 'ClusterRole', 'node-reader',
      [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs' }]))).status).toBe(201);
    await api.eventually(async () => expect((await alice('GET', '/api/v1/nodes')).status).toBe(200));
    expect((await alice('DELETE', '/api/v1/nodes/n1')).status).toBe(403);
    expect((await bob('GET', '/api/v1/nodes')).status).toBe(403);
  });

  it('honours resourceNames and subresource rules of a Role', async () => {
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'one-pod', namespace: 'team' },
      rules: [{ apiGroups: [''], resources: ['pods'], resourceNames: ['web'], verbs: ['get'] }, { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }] };
    expect((await api.admin('POST', `${RBAC}/namespaces/team/roles`, role)).status).toBe(201);
    expect((await api.admin('POST', `${RBAC}/namespaces/team/rolebindings`, binding('RoleBinding', 'bob-one-pod', 'Role', 'one-pod', [user('bob')]))).status).toBe(201);
    await api.eventually(async () => expect((await bob('GET', '/api/v1/namespaces/team/pods/web')).status).toBe(200));
    expect((await bob('GET', '/api/v1/namespaces/team/pods/other')).status).toBe(403);
    expect((await bob('GET', '/api/v1/namespaces/team/pods')).status).toBe(403);
    expect((await bob('GET', '/api/v1/namespaces/team/pods/other/log')).status).not.toBe(403);
  });

  it('a new ClusterRole labelled aggregate-to-view reaches view, edit and admin', async () => {
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole',
      metadata: { name: 'widgets-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
      rules: [{ apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get'] }] };
    expect((await api.admin('POST', `${RBAC}/clusterroles`, role)).status).toBe(201);
    await api.eventually(async () => {
      for (const name of ['view', 'edit', 'admin']) {
        const r = await (await api.admin('GET', `${RBAC}/clusterroles/${name}`)).json() as ClusterRole;
        expect(r.rules, name).toContainEqual(role.rules[0]);
      }
    });
  });

  it('node identities stay confined even when a binding would grant them everything', async () => {
    await api.admin('POST', `${RBAC}/clusterrolebindings`, binding('ClusterRoleBinding', 'nodes-everything', 'ClusterRole', 'cluster-admin',
      [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:nodes' }]));
    const node = api.as({ name: 'system:node:n1', groups: ['system:nodes'] });
    await api.eventually(async () => expect([...api.rbac.clusterRoleBindings()].map((b) => b.metadata.name)).toContain('nodes-everything'));
    expect((await node('GET', '/api/v1/namespaces/team/secrets')).status).toBe(403);
    expect((await node('POST', '/api/v1/namespaces/team/pods/web/exec?command=sh')).status).toBe(403);
  });

  describe('escalation', () => {
    beforeAll(async () => {
      await api.admin('POST', `${RBAC}/namespaces/team/rolebindings`, binding('RoleBinding', 'carol-admin', 'ClusterRole', 'admin', [user('carol')]));
      await api.eventually(async () => expect((await carol('GET', `${RBAC}/namespaces/team/rolebindings`)).status).toBe(200));
    });

    it('a namespace admin may bind view (held) but not cluster-admin (not held)', async () => {
      expect((await carol('POST', `${RBAC}/namespaces/team/rolebindings`, binding('RoleBinding', 'dave-view', 'ClusterRole', 'view', [user('dave')]))).status).toBe(201);
      const res = await carol('POST', `${RBAC}/namespaces/team/rolebindings`, binding('RoleBinding', 'carol-root', 'ClusterRole', 'cluster-admin', [user('carol')]));
      expect(res.status).toBe(403);
      expect((await res.json() as { message: string }).message).toContain('is attempting to grant RBAC permissions not currently held');
      expect((await carol('POST', `${RBAC}/clusterrolebindings`, binding('ClusterRoleBinding', 'x', 'ClusterRole', 'view', [user('carol')]))).status).toBe(403);
    });

    it('a Role may grant only what its author holds; no aggregationRule without escalate', async () => {
      const role = (name: string, rules: unknown[]) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: 'team' }, rules });
      expect((await carol('POST', `${RBAC}/namespaces/team/roles`, role('pods-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]))).status).toBe(201);
      expect((await carol('POST', `${RBAC}/namespaces/team/roles`, role('star', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]))).status).toBe(403);
      expect((await carol('POST', `${RBAC}/namespaces/team/roles`, role('nodes', [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }]))).status).toBe(403);
      // an update that widens is refused as well, by PUT and by PATCH
      const current = await (await carol('GET', `${RBAC}/namespaces/team/roles/pods-reader`)).json() as Record<string, unknown>;
      expect((await carol('PUT', `${RBAC}/namespaces/team/roles/pods-reader`, { ...current, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] })).status).toBe(403);
      expect((await carol('PATCH', `${RBAC}/namespaces/team/roles/pods-reader`, { rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['*'] }] })).status).toBe(403);
    });

    it('the bind verb on a role lets one bind it without holding it', async () => {
      const binder = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'binder', namespace: 'team' },
        rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['node-reader'] },
          { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['create'] }] };
      await api.admin('POST', `${RBAC}/namespaces/team/roles`, binder);
      await api.admin('POST', `${RBAC}/namespaces/team/rolebindings`, binding('RoleBinding', 'erin-binder', 'Role', 'binder', [user('erin')]));
      const erin = api.as({ name: 'erin' });
      await api.eventually(async () => expect((await erin('POST', `${RBAC}/namespaces/team/rolebindings`,
        binding('RoleBinding', 'frank-nodes', 'ClusterRole', 'node-reader', [user('frank')]))).status).toBe(201));
      expect((await erin('POST', `${RBAC}/namespaces/team/rolebindings`, binding('RoleBinding', 'frank-view', 'ClusterRole', 'view', [user('frank')]))).status).toBe(403);
    });
  });

  it('validates roles and bindings with field causes (422), and roleRef is immutable', async () => {
    const bad = await api.admin('POST', `${RBAC}/namespaces/team/roles`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'bad' },
      rules: [{ resources: ['pods'], verbs: [] }, { nonResourceURLs: ['/x'], verbs: ['get'] }] });
    expect(bad.status).toBe(422);
    const fields = ((await bad.json()) as { details: { causes: Array<{ field: string }> } }).details.causes.map((c) => c.field);
    expect(fields).toEqual(['rules[0].verbs', 'rules[0].apiGroups', 'rules[1].nonResourceURLs']);
    const badBinding = await api.admin('POST', `${RBAC}/namespaces/team/rolebindings`, { ...binding('RoleBinding', 'bb', 'Secret', 'x', [{ kind: 'Robot', name: 'r' }]) });
    expect(badBinding.status).toBe(422);
    const current = await (await api.admin('GET', `${RBAC}/namespaces/team/rolebindings/alice-view`)).json() as Record<string, any>;
    const changed = await api.admin('PUT', `${RBAC}/namespaces/team/rolebindings/alice-view`, { ...current, roleRef: { ...current['roleRef'], name: 'edit' } });
    expect(changed.status).toBe(422);
    expect(((await changed.json()) as { message: string }).message).toContain('cannot change roleRef');
    expect((await api.admin('POST', `${RBAC}/clusterroles`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: '../x' } })).status).toBe(422);
  });
});
