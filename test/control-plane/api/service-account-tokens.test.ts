// TokenRequest and ServiceAccount token authentication on the app: expiry on the (fake) clock, audience,
// revocation by deleting the ServiceAccount or the bound Pod, tampering, and a seeded fuzz of token
// request bodies and bearer tokens (never a 5xx, never a user from a forged token).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ISSUER, loadSigningKey, serviceAccountTokens, type ServiceAccountTokens } from '../../../control-plane/api/service-account-tokens.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { hostileJson, hostileString, seededRandom } from '../../support/seeded-random.js';
import { openRbacApi, type RbacApi } from '../support/rbac-api.js';
import { aPod } from '../support/test-resources.js';

const SA = '/api/v1/namespaces/default/serviceaccounts';
const tokenRequest = (spec: Record<string, unknown> = {}) => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec });

describe('ServiceAccount tokens', () => {
  let api: RbacApi;
  let tokens: ServiceAccountTokens;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-sa-tokens-'));
    let signing: ServiceAccountTokens | undefined;
    api = await openRbacApi({
      tokens: async (t) => (t === 'admin-token' ? { name: 'admin', groups: ['system:masters'] } : signing?.authenticate(t)),
    });
    tokens = serviceAccountTokens({ keys: await loadSigningKey(dir), resources: api.resources, clock: api.clock });
    signing = tokens;
    await api.resources.create(resourceTypes.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'default' } });
  });
  afterAll(async () => {
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the signing key is made once and reused', async () => {
    const a = await loadSigningKey(dir);
    const t = await serviceAccountTokens({ keys: a, resources: api.resources, clock: api.clock }).issue({
      namespace: 'default', serviceAccount: { name: 'robot', uid: (await api.resources.get(resourceTypes.serviceaccounts, 'default', 'robot')).metadata.uid! },
      audiences: [...tokens.apiAudiences], expirationSeconds: 3600,
    });
    expect(await tokens.authenticate(t.token)).toEqual({ name: 'system:serviceaccount:default:robot', groups: ['system:serviceaccounts', 'system:serviceaccounts:default'] });
  });

  it('expires, checks the audience, and is revoked with its ServiceAccount or bound Pod', async () => {
    const sa = await api.resources.get(resourceTypes.serviceaccounts, 'default', 'robot');
    const issue = (extra: Partial<Parameters<ServiceAccountTokens['issue']>[0]> = {}) => tokens.issue({
      namespace: 'default', serviceAccount: { name: 'robot', uid: sa.metadata.uid! }, audiences: [...tokens.apiAudiences], expirationSeconds: 600, ...extra,
    });
    const t = (await issue()).token;
    expect(await tokens.authenticate(t)).toBeDefined();
    api.clock.advance(601_000 + 5_000);
    expect(await tokens.authenticate(t)).toBeUndefined();
    expect(await tokens.authenticate((await issue({ audiences: ['vault'] })).token)).toBeUndefined();
    const [h, p, s] = (await issue()).token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    claims['kubernetes.io'].namespace = 'kube-system';
    claims.sub = 'system:serviceaccount:kube-system:robot';
    expect(await tokens.authenticate(`${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`)).toBeUndefined();
    const pod = await api.resources.create(resourceTypes.pods, aPod('bound'));
    const bound = (await issue({ bound: { kind: 'Pod', name: 'bound', uid: pod.metadata.uid! } })).token;
    expect(await tokens.authenticate(bound)).toBeDefined();
    await api.resources.delete(resourceTypes.pods, 'default', 'bound', { gracePeriodSeconds: 0 });
    expect(await tokens.authenticate(bound)).toBeUndefined();
  });

  it('fuzz: hostile bearer tokens authenticate nobody', async () => {
    const next = seededRandom(Number(process.env['SKIFF_FUZZ_SEED'] ?? 14_003));
    for (let i = 0; i < 500; i++) {
      const parts = Array.from({ length: 1 + Math.floor(next() * 4) }, () => (next() < 0.5 ? Buffer.from(JSON.stringify(hostileJson(next, 3))).toString('base64url') : hostileString(next)));
      expect(await tokens.authenticate(parts.join('.'))).toBeUndefined();
    }
    const alg = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ iss: tokens.issuer, aud: tokens.apiAudiences, sub: 'system:serviceaccount:default:robot', exp: 9e9,
      'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'robot' } } })).toString('base64url');
    expect(await tokens.authenticate(`${alg}.${body}.`)).toBeUndefined();
  });
});

describe('TokenRequest route', () => {
  let api: RbacApi;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-token-route-'));
    // the issuer needs the app's store, the app needs the issuer: bound through a holder
    const holder: { tokens?: ServiceAccountTokens } = {};
    const lazy: ServiceAccountTokens = {
      issuer: DEFAULT_ISSUER, apiAudiences: [DEFAULT_ISSUER],
      issue: (c) => holder.tokens!.issue(c), authenticate: (t) => holder.tokens!.authenticate(t),
    };
    api = await openRbacApi({ serviceAccountTokens: lazy });
    holder.tokens = serviceAccountTokens({ keys: await loadSigningKey(dir), resources: api.resources, clock: api.clock });
    await api.resources.create(resourceTypes.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'default' } });
  });
  afterAll(async () => {
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('validates and never 5xx on hostile bodies (seeded fuzz)', async () => {
    expect((await api.admin('POST', `${SA}/robot/token`, tokenRequest({ expirationSeconds: 10 }))).status).toBe(422);
    expect((await api.admin('POST', `${SA}/robot/token`, tokenRequest({ boundObjectRef: { kind: 'Node', name: 'n' } }))).status).toBe(422);
    expect((await api.admin('POST', `${SA}/nobody/token`, tokenRequest())).status).toBe(404);
    expect((await api.admin('POST', `${SA}/robot/token`, tokenRequest({ boundObjectRef: { kind: 'Pod', name: 'missing' } }))).status).toBe(404);
    const next = seededRandom(Number(process.env['SKIFF_FUZZ_SEED'] ?? 14_017));
    const statuses = new Map<number, number>();
    for (let i = 0; i < 800; i++) {
      const spec = next() < 0.3 ? hostileJson(next, 3) : {
        audiences: next() < 0.5 ? [hostileString(next)] : hostileJson(next, 2),
        expirationSeconds: [600, 3600, -1, 0, 1e12, 2 ** 53 + 1, 'x', null][Math.floor(next() * 8)],
        boundObjectRef: next() < 0.5 ? undefined : { kind: ['Pod', 'Secret', hostileString(next)][Math.floor(next() * 3)], name: hostileString(next), uid: hostileString(next) },
      };
      const name = next() < 0.8 ? 'robot' : encodeURIComponent(hostileString(next)) || 'x';
      const body = next() < 0.1 ? hostileString(next) : tokenRequest(spec as Record<string, unknown>);
      const res = await api.admin('POST', `${SA}/${name}/token`, body);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, JSON.stringify(body)).toBeLessThan(500);
    }
    expect(statuses.get(201) ?? 0).toBeGreaterThan(20);
  }, 120_000);
});
