// The API over a real etcd (loopback) that crashes and comes back: while it is down, writes are 503
// with Retry-After (a retryable condition, as kube-apiserver answers), never 500; once it is back,
// creates succeed and an open watch goes on with the new objects. Skipped without /usr/bin/etcd.
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ETCD_BINARY, isEtcdAvailable, startEtcdServer, type EtcdServer } from '../../../bench/support/etcd-server.js';
import { createApiApp } from '../../../control-plane/api/api-app.js';
import { ensureInitialNamespaces } from '../../../control-plane/resources/initial-namespaces.js';
import { ResourceStore } from '../../../control-plane/resources/resource-store.js';
import { openEtcdStore } from '../../../control-plane/store/etcd/etcd-store.js';
import { openWatchCache } from '../../../control-plane/store/watch-cache/watch-cache.js';
import type { Store } from '../../../control-plane/store/store.js';
import { readEvents } from '../support/test-api.js';

if (!isEtcdAvailable) console.log(`etcd unavailability suite skipped: ${ETCD_BINARY} not found`);

const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';

describe.skipIf(!isEtcdAvailable)('API while etcd is unavailable', () => {
  let server: EtcdServer;
  let store: Store;
  let call: (method: string, path: string, body?: unknown) => Promise<Response>;
  beforeAll(async () => {
    server = await startEtcdServer();
    store = await openWatchCache(await openEtcdStore({ endpoints: [server.endpoint], prefix: `/test-${nanoid(8)}`, callTimeoutMs: 3_000 }));
    const resources = new ResourceStore(store);
    await ensureInitialNamespaces(resources);
    const app = createApiApp({ tokens: (token) => (token === 't' ? { name: 'admin', groups: ['system:masters'] } : undefined), resources });
    call = async (method, path, body) => app.request(path, {
      method,
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  });
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { name } });

  it('answers 503 with Retry-After while etcd is down, then creates again and the watch goes on', async () => {
    expect((await call('POST', CONFIGMAPS, configMap('before'))).status).toBe(201);
    const list = (await (await call('GET', CONFIGMAPS)).json()) as { metadata: { resourceVersion: string } };
    const watch = await call('GET', `${CONFIGMAPS}?watch=1&resourceVersion=${list.metadata.resourceVersion}`);

    await server.crash();
    const refused = await call('POST', CONFIGMAPS, configMap('while-down'));
    const status = (await refused.json()) as { reason: string; code: number; details: { retryAfterSeconds?: number } };
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(status).toMatchObject({ reason: 'ServiceUnavailable', code: 503, details: { retryAfterSeconds: 1 } });

    await server.restart();
    // No 500 and no 503 once etcd answers again: the client reconnects within the call's deadline.
    for (const name of ['after-1', 'after-2']) {
      const created = await call('POST', CONFIGMAPS, configMap(name));
      expect({ name, status: created.status, body: created.status === 201 ? '' : await created.text() }).toEqual({ name, status: 201, body: '' });
    }
    const events = await readEvents(watch, 2);
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED after-1', 'ADDED after-2']);
  }, 60_000);
});
