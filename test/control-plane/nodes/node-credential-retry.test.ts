// The credential exchange after a write answered 503 that applied (decision 062: a store call past
// its deadline may or may not have written): the agent's repeat with the same retry key gets a
// credential (a fresh one, replacing the one it never received), not the 409 it takes as final;
// without the key, or with another, the name stays claimed. Bad bodies are 422 with a cause.
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRetryKey } from '../../../api/mqtt/node-credential.js';
import { createApiApp } from '../../../control-plane/api/api-app.js';
import { clusterTokenAuthenticator } from '../../../control-plane/credentials.js';
import { mountNodeCredentialRoutes } from '../../../control-plane/nodes/node-credential-routes.js';
import { NodeCredentials } from '../../../control-plane/nodes/node-credentials.js';
import { StoreUnavailableError, type Store } from '../../../control-plane/store/store.js';
import { hostileJson, hostileString, seededRandom } from '../../support/seeded-random.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const BOOTSTRAP = 'bootstrap-token';

describe('node credential exchange repeated after a lost answer', () => {
  let t: TestResources;
  let app: Hono;
  let credentials: NodeCredentials;
  /** Node names whose next credential create is written and then answered as unavailable. */
  const lostAnswers = new Set<string>();

  const post = (node: string, body?: unknown) => app.request(`/skiff/v1/node-credentials/${node}`, {
    method: 'POST', headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const credentialOf = async (res: Response) => ((await res.json()) as { credential: string }).credential;

  beforeAll(async () => {
    t = await openTestResources();
    const store = t.store;
    const flaky = new Proxy(store, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (prop !== 'create') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        return async (key: string, value: string) => {
          const revision = await target.create(key, value);
          const node = key.split('/').at(-1)!;
          if (lostAnswers.delete(node)) throw new StoreUnavailableError('store call past its deadline (the write applied)');
          return revision;
        };
      },
    }) as Store;
    credentials = await NodeCredentials.open(flaky);
    app = createApiApp({
      resources: t.resources,
      tokens: clusterTokenAuthenticator({ adminToken: 'admin-token', nodeToken: BOOTSTRAP }, credentials),
      extraRoutes: (api) => mountNodeCredentialRoutes(api, credentials),
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('the repeat with the same retry key gets a working credential (checked: 409 without the fix)', async () => {
    const retryKey = newRetryKey();
    lostAnswers.add('node-a');
    expect((await post('node-a', { retryKey })).status).toBe(503);
    const again = await post('node-a', { retryKey });
    expect(again.status).toBe(201);
    const credential = await credentialOf(again);
    expect(credentials.verify('node-a', credential)).toBe(true);
    expect(credentials.nodeFor(credential)).toBe('node-a');

    // a third repeat (its answer lost too) replaces it: only the last one given out works
    const third = await post('node-a', { retryKey });
    expect(third.status).toBe(201);
    const latest = await credentialOf(third);
    expect(credentials.verify('node-a', latest)).toBe(true);
    expect(credentials.verify('node-a', credential)).toBe(false);
    expect(credentials.nodeFor(credential)).toBeUndefined();
  });

  it('without the key, or with another, a claimed name stays claimed', async () => {
    const retryKey = newRetryKey();
    const first = await post('node-b', { retryKey });
    expect(first.status).toBe(201);
    const credential = await credentialOf(first);
    expect((await post('node-b')).status).toBe(409);
    expect((await post('node-b', {})).status).toBe(409);
    expect((await post('node-b', { retryKey: newRetryKey() })).status).toBe(409);
    expect(credentials.verify('node-b', credential)).toBe(true);
    // a node that joined before retry keys (none on record) cannot be taken over with one
    expect((await post('node-c')).status).toBe(201);
    expect((await post('node-c', { retryKey })).status).toBe(409);
  });

  it('refuses a bad body with a cause, and a seeded fuzz of bodies never gets a 500', async () => {
    for (const body of ['{', '[]', '"x"', { retryKey: 'short' }, { retryKey: 42 }, { retryKey: 'a'.repeat(200) }, { retryKey: newRetryKey(), extra: 1 }, 'x'.repeat(2000)]) {
      const res = await post('node-d', body);
      expect(res.status, JSON.stringify(body).slice(0, 40)).toBe(422);
      const parsed = await res.json() as { causes: Array<{ field: string; message: string }> };
      expect(parsed.causes[0]?.message).toBeTruthy();
    }
    expect(credentials.has('node-d')).toBe(false);
    const next = seededRandom(67);
    for (let i = 0; i < 300; i++) {
      const body = i % 3 === 0 ? hostileString(next) : i % 3 === 1 ? hostileJson(next) : { retryKey: hostileString(next) };
      const res = await post(`fuzz-${i}`, body);
      expect([201, 422], JSON.stringify(body).slice(0, 80)).toContain(res.status);
    }
  });
});
