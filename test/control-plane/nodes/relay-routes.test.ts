// The relay route (POST /skiff/v1/relay/NODE): nodes only, the pod IP must be in NODE's pod CIDR,
// hostile bodies answer 422 with field causes (seeded fuzz: never 500), and the call goes to NODE
// with the calling node's name (a recording node channel).
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '../../../api/types/node.js';
import { createApiApp } from '../../../control-plane/api/api-app.js';
import { clusterTokenAuthenticator } from '../../../control-plane/credentials.js';
import type { NodeChannel } from '../../../control-plane/node-channel/node-channel.js';
import { mountRelayRoutes } from '../../../control-plane/nodes/relay-routes.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { hostileJson, hostileString, seededRandom } from '../../support/seeded-random.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const tokens = { admin: 'admin-token', bootstrap: 'bootstrap-token', node1: 'node-1-credential' };
const valid = { podIP: '10.42.2.5', port: 8080, timeoutMs: 5000, sourceIP: '10.42.1.2', request: { method: 'GET', pathWithQuery: '/x', scheme: 'http', authority: 'web-svc', headers: [['x-a', '1']], body: 'aGk=' } };

describe('the relay route', () => {
  let t: TestResources;
  let app: Hono;
  const calls: Array<{ node: string; method: string; params: Record<string, unknown> }> = [];
  const post = (node: string, body: string, token: string | null = tokens.node1) => app.request(`/skiff/v1/relay/${node}`, {
    method: 'POST', body, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });

  beforeAll(async () => {
    t = await openTestResources();
    await t.resources.create<Node>(resourceTypes.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-2' }, spec: { podCIDR: '10.42.2.0/24' } });
    const channel = {
      call: async (node: string, method: string, params: Record<string, unknown>) => {
        calls.push({ node, method, params });
        return { response: { status: 200, headers: [], body: 'b2s=' } };
      },
    } as unknown as NodeChannel;
    app = createApiApp({
      resources: t.resources,
      tokens: clusterTokenAuthenticator({ adminToken: tokens.admin, nodeToken: tokens.bootstrap }, { nodeFor: (s) => (s === tokens.node1 ? 'node-1' : undefined) }),
      extraRoutes: (api) => mountRelayRoutes(api, t.resources, () => channel),
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('sends a node\'s request to the node that runs the pod, naming the caller', async () => {
    const res = await post('node-2', JSON.stringify(valid));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ response: { status: 200, headers: [], body: 'b2s=' } });
    expect(calls).toEqual([{ node: 'node-2', method: 'relay', params: { ...valid, from: 'node-1' } }]);
  });

  it('refuses the bootstrap token and no token, a pod IP of another CIDR, an unknown node', async () => {
    expect((await post('node-2', JSON.stringify(valid), tokens.bootstrap)).status).toBe(403);
    expect((await post('node-2', JSON.stringify(valid), null)).status).toBe(401);
    expect((await post('node-2', JSON.stringify({ ...valid, podIP: '10.42.3.5' }))).status).toBe(403);
    expect((await post('node-9', JSON.stringify(valid))).status).toBe(404);
  });

  it('answers 422 with field causes for bad bodies, never 500 (seeded fuzz)', async () => {
    const cases: Array<[unknown, string]> = [
      [{ ...valid, podIP: '10.42.2.500' }, 'podIP'], [{ ...valid, port: 0 }, 'port'], [{ ...valid, timeoutMs: 10_000_000 }, 'timeoutMs'],
      [{ ...valid, request: { ...valid.request, pathWithQuery: 'x' } }, 'request.pathWithQuery'],
      [{ ...valid, request: { ...valid.request, method: 'G E T' } }, 'request.method'],
      [{ ...valid, request: { ...valid.request, body: '***' } }, 'request.body'],
    ];
    for (const [body, field] of cases) {
      const res = await post('node-2', JSON.stringify(body));
      expect(res.status, field).toBe(422);
      expect((await res.json() as { causes: Array<{ field: string }> }).causes[0]!.field).toBe(field);
    }
    expect((await post('node-2', 'x'.repeat(300_000))).status).toBe(422);
    const next = seededRandom(2807);
    for (let i = 0; i < 200; i++) {
      const body = i % 2 ? hostileString(next) : JSON.stringify(i % 4 === 0 ? { ...valid, request: hostileJson(next) } : hostileJson(next));
      const res = await post(i % 7 === 0 ? encodeURIComponent(hostileString(next, 2)) || 'x' : 'node-2', body);
      expect([400, 403, 404, 422], body.slice(0, 80)).toContain(res.status);
    }
  });
});
