// The bootstrap credential route takes only names a Node can have (DNS-1123 subdomains, as the real
// API server and a CSR's system:node:NAME require): `..`, `.`, upper case and the like are 422 with
// a cause, never a credential; a seeded fuzz of hostile names never gets a 500 or a bad name in.
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../../control-plane/api/api-app.js';
import { clusterTokenAuthenticator } from '../../../control-plane/credentials.js';
import { mountNodeCredentialRoutes } from '../../../control-plane/nodes/node-credential-routes.js';
import { NodeCredentials } from '../../../control-plane/nodes/node-credentials.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const BOOTSTRAP = 'bootstrap-token';
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

describe('node credential names', () => {
  let t: TestResources;
  let app: Hono;
  let credentials: NodeCredentials;
  const issue = (node: string) => app.request(`/skiff/v1/node-credentials/${encodeURIComponent(node)}`, {
    method: 'POST', headers: { authorization: `Bearer ${BOOTSTRAP}` },
  });

  beforeAll(async () => {
    t = await openTestResources();
    credentials = await NodeCredentials.open(t.store);
    app = createApiApp({
      resources: t.resources,
      tokens: clusterTokenAuthenticator({ adminToken: 'admin-token', nodeToken: BOOTSTRAP }, credentials),
      extraRoutes: (api) => mountNodeCredentialRoutes(api, credentials),
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses `..` and `.` (which a URL resolves away before the route, but not a direct caller)', async () => {
    for (const name of ['..', '.']) {
      await expect(credentials.issue(name)).rejects.toThrow(/RFC 1123 subdomain/);
      expect(credentials.has(name)).toBe(false);
    }
  });

  it('refuses names no Node can have, with the reason as a cause', async () => {
    for (const name of ['..x', 'Node-1', 'node_1', '-node', 'node.', 'a..b', 'x'.repeat(254), 'skiff-bootstrap']) {
      const res = await issue(name);
      expect(res.status, name).toBe(422);
      const body = await res.json() as { causes: Array<{ field: string; message: string }> };
      expect(body.causes[0]?.field, name).toBe('node');
      expect(credentials.has(name), name).toBe(false);
    }
    const res = await issue('a..b');
    expect(((await res.json()) as { causes: Array<{ message: string }> }).causes[0]!.message).toMatch(/RFC 1123 subdomain/);
  });

  it('issues a credential for a DNS-1123 subdomain, once', async () => {
    expect((await issue('edge-1.zone-a')).status).toBe(201);
    expect((await issue('edge-1.zone-a')).status).toBe(409);
  });

  it('never answers 500 and never issues a credential for a name that is not a subdomain (seeded fuzz)', async () => {
    const next = seededRandom(1223);
    for (let i = 0; i < 300; i++) {
      const name = i % 3 === 0 ? hostileString(next) : `n${hostileString(next, 3)}`;
      if (name === '' || name.includes('/')) continue; // another route, not a name
      const res = await issue(name);
      expect(res.status, JSON.stringify(name)).toBeLessThan(500);
      if (res.status === 201) expect(name, JSON.stringify(name)).toMatch(DNS_SUBDOMAIN);
    }
  });
});
