// The review APIs and impersonation, on the app with RBAC: SelfSubjectAccessReview, SubjectAccessReview
// (who may ask about others), LocalSubjectAccessReview, SelfSubjectRulesReview, SelfSubjectReview;
// Impersonate-* headers authorized by the impersonate verb; and a seeded fuzz of the review and
// impersonation inputs (never a 5xx, never an impersonation the caller may not do).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileJson, hostileString, seededRandom } from '../../support/seeded-random.js';
import { openRbacApi, type Caller, type RbacApi } from '../support/rbac-api.js';

const AUTHZ = '/apis/authorization.k8s.io/v1';
const ssar = (resourceAttributes: Record<string, string>) => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes } });

describe('access reviews and impersonation', () => {
  let api: RbacApi;
  let alice: Caller;
  let bob: Caller;

  beforeAll(async () => {
    api = await openRbacApi();
    alice = api.as({ name: 'alice', groups: ['devs'] });
    bob = api.as({ name: 'bob' });
    await api.admin('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'devs-edit' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs' }],
    });
    await api.eventually(async () => expect((await alice('GET', '/api/v1/namespaces/default/pods')).status).toBe(200));
  });
  afterAll(async () => api?.close());

  it('SelfSubjectAccessReview answers for the caller', async () => {
    const yes = await alice('POST', `${AUTHZ}/selfsubjectaccessreviews`, ssar({ namespace: 'default', verb: 'create', resource: 'pods' }));
    expect(yes.status).toBe(201);
    expect(await yes.json() as any).toMatchObject({ kind: 'SelfSubjectAccessReview', status: { allowed: true, reason: expect.stringContaining('RoleBinding "default/devs-edit"') } });
    const no = await (await alice('POST', `${AUTHZ}/selfsubjectaccessreviews`, ssar({ namespace: 'kube-system', verb: 'create', resource: 'pods' }))).json() as any;
    expect(no.status).toEqual({ allowed: false });
    const node = api.as({ name: 'system:node:n1', groups: ['system:nodes'] });
    // a node may ask about itself (as every authenticated user): its authorizer says no to reading pods
    const nodeReview = await node('POST', `${AUTHZ}/selfsubjectaccessreviews`, ssar({ verb: 'get', resource: 'pods' }));
    expect(nodeReview.status).toBe(201);
    expect(((await nodeReview.json()) as any).status.allowed).toBe(false);
    const neither = await alice('POST', `${AUTHZ}/selfsubjectaccessreviews`, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {} });
    expect(neither.status).toBe(422);
  });

  it('SubjectAccessReview: only those allowed may ask about others', async () => {
    const body = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'carol', groups: ['devs'], resourceAttributes: { namespace: 'default', verb: 'delete', resource: 'pods' } } };
    expect((await alice('POST', `${AUTHZ}/subjectaccessreviews`, body)).status).toBe(403);
    const res = await api.admin('POST', `${AUTHZ}/subjectaccessreviews`, body);
    expect(res.status).toBe(201);
    expect((await res.json() as any).status.allowed).toBe(true);
    const local = { ...body, kind: 'LocalSubjectAccessReview', metadata: { namespace: 'default' } };
    expect((await (await api.admin('POST', `${AUTHZ}/namespaces/default/localsubjectaccessreviews`, local)).json() as any).status.allowed).toBe(true);
    const mismatched = { ...local, spec: { ...local.spec, resourceAttributes: { ...local.spec.resourceAttributes, namespace: 'kube-system' } } };
    expect((await api.admin('POST', `${AUTHZ}/namespaces/default/localsubjectaccessreviews`, mismatched)).status).toBe(422);
    expect((await api.admin('POST', `${AUTHZ}/subjectaccessreviews`, { ...body, spec: { resourceAttributes: body.spec.resourceAttributes } })).status).toBe(422);
  });

  it('SelfSubjectRulesReview lists the rules in a namespace; SelfSubjectReview says who', async () => {
    const rules = await (await alice('POST', `${AUTHZ}/selfsubjectrulesreviews`, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'default' } })).json() as any;
    expect(rules.status.incomplete).toBe(false);
    expect(rules.status.resourceRules).toContainEqual(expect.objectContaining({ resources: expect.arrayContaining(['pods']), verbs: expect.arrayContaining(['create']) }));
    expect(rules.status.nonResourceRules).toContainEqual(expect.objectContaining({ nonResourceURLs: expect.arrayContaining(['/api']) }));
    const whoami = await (await alice('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' })).json() as any;
    expect(whoami.status.userInfo).toEqual({ username: 'alice', groups: ['devs', 'system:authenticated'] });
    // node and bootstrap identities: their list is incomplete (their authorizer lists no rules), as the real server says
    for (const user of [{ name: 'system:node:n1', groups: ['system:nodes'] }, { name: 'system:node-bootstrap', groups: ['system:bootstrappers'] }]) {
      const res = await api.as(user)('POST', `${AUTHZ}/selfsubjectrulesreviews`, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'default' } });
      expect(res.status, user.name).toBe(201);
      expect(((await res.json()) as any).status).toMatchObject({ incomplete: true, evaluationError: expect.stringContaining('not listed') });
    }
  });

  it('impersonation needs the impersonate verb on users, groups and serviceaccounts', async () => {
    const as = (caller: Caller, headers: Record<string, string>) => caller('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, headers);
    const denied = await as(bob, { 'Impersonate-User': 'alice' });
    expect(denied.status).toBe(403);
    expect((await denied.json() as any).message).toBe('users "alice" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope');
    expect((await as(bob, { 'Impersonate-Group': 'system:masters' })).status).toBe(400);
    const admin = await (await as(api.admin, { 'Impersonate-User': 'alice', 'Impersonate-Group': 'devs, qa' })).json() as any;
    expect(admin.status.userInfo).toEqual({ username: 'alice', groups: ['devs', 'qa', 'system:authenticated'] });
    // edit grants impersonate on serviceaccounts in its namespace, nothing more
    const sa = await as(alice, { 'Impersonate-User': 'system:serviceaccount:default:builder' });
    expect(sa.status).toBe(201);
    expect((await sa.json() as any).status.userInfo.groups).toEqual(['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
    expect((await as(alice, { 'Impersonate-User': 'system:serviceaccount:kube-system:builder' })).status).toBe(403);
    expect((await as(alice, { 'Impersonate-User': 'system:serviceaccount:default:builder', 'Impersonate-Group': 'system:masters' })).status).toBe(403);
    // what the impersonated user may not do stays forbidden
    expect((await api.admin('GET', '/api/v1/namespaces/default/secrets', undefined, { 'Impersonate-User': 'bob' })).status).toBe(403);
  });

  it('fuzz: hostile reviews and impersonation headers never get a 5xx or an unchecked identity', async () => {
    const next = seededRandom(Number(process.env['SKIFF_FUZZ_SEED'] ?? 14_014));
    const paths = [`${AUTHZ}/selfsubjectaccessreviews`, `${AUTHZ}/subjectaccessreviews`, `${AUTHZ}/namespaces/default/localsubjectaccessreviews`,
      `${AUTHZ}/selfsubjectrulesreviews`, '/apis/authentication.k8s.io/v1/selfsubjectreviews'];
    const kinds = ['SelfSubjectAccessReview', 'SubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectRulesReview', 'SelfSubjectReview'];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1500; i++) {
      const k = Math.floor(next() * paths.length);
      const attrs = Object.fromEntries(['namespace', 'verb', 'group', 'resource', 'subresource', 'name', 'path'].map((f) => [f, next() < 0.5 ? hostileString(next) : hostileJson(next, 2)]));
      const spec = next() < 0.3 ? hostileJson(next, 3) : { resourceAttributes: next() < 0.7 ? attrs : hostileJson(next, 2), user: hostileString(next), groups: [hostileString(next)], namespace: hostileString(next) };
      const body = next() < 0.1 ? hostileString(next) : { apiVersion: next() < 0.9 ? (k === 4 ? 'authentication.k8s.io/v1' : 'authorization.k8s.io/v1') : hostileString(next), kind: next() < 0.9 ? kinds[k] : hostileString(next), spec };
      const headers: Record<string, string> = {};
      if (next() < 0.3) headers['Impersonate-User'] = hostileString(next).replace(/[^\x20-\x7e]/g, '');
      if (next() < 0.2) headers['Impersonate-Group'] = hostileString(next).replace(/[^\x20-\x7e]/g, '');
      const caller = next() < 0.5 ? alice : bob;
      const res = await caller('POST', paths[k]!, body, headers);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, JSON.stringify({ path: paths[k], body, headers })).toBeLessThan(500);
      if (res.status === 201 && k === 4) {
        const who = (await res.json() as any).status.userInfo.username;
        // alice may impersonate only ServiceAccounts of default; bob nobody
        expect(who === 'alice' || who === 'bob' || (caller === alice && who.startsWith('system:serviceaccount:default:'))).toBe(true);
      }
    }
    expect(statuses.get(201) ?? 0).toBeGreaterThan(50);
  }, 120_000);
});
