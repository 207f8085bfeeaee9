// The raw TCP relay route (upgraded POST /skiff/v1/relay/NODE/tcp, decision 038): nodes only, the
// target in NODE's pod CIDR, the source in the caller's; a refusal of NODE comes back as its error
// code; an accepted connection answers 101 and carries frames both ways as the call's messages
// (a scripted node channel); hostile headers and node names never give a 500 (seeded fuzz).
import { Duplex } from 'node:stream';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '../../../api/types/node.js';
import { FRAME_DATA, FRAME_FIN, FrameDecoder, frame } from '../../../api/net/framed-stream.js';
import { createApiApp } from '../../../control-plane/api/api-app.js';
import { clusterTokenAuthenticator } from '../../../control-plane/credentials.js';
import type { CallOptions, NodeChannel } from '../../../control-plane/node-channel/node-channel.js';
import { mountRelayStreamRoutes } from '../../../control-plane/nodes/relay-stream-routes.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const tokens = { admin: 'admin-token', bootstrap: 'bootstrap-token', node1: 'node-1-credential' };
type Script = (params: Record<string, unknown>, options: CallOptions) => Promise<unknown>;

describe('the raw TCP relay route', () => {
  let t: TestResources;
  let app: Hono;
  let script: Script;
  const calls: Array<{ node: string; method: string; params: Record<string, unknown> }> = [];
  const open = (node: string, headers: Record<string, string>, token: string | null = tokens.node1) => {
    // what the route writes is collected; what A sends is pushed by the test
    const written: Buffer[] = [];
    const socket = new Duplex({ read() {}, write(chunk: Buffer, _encoding, done) { written.push(chunk); done(); } });
    const upgrade = { socket, head: Buffer.alloc(0), accepted: false };
    const response = app.request(`/skiff/v1/relay/${node}/tcp`, {
      method: 'POST', headers: { connection: 'Upgrade', upgrade: 'skiff-tcp', ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    }, { upgrade });
    return { response, upgrade, socket, written };
  };
  const valid = { 'x-skiff-tunnel-target': '10.42.2.5:7000', 'x-skiff-tunnel-source': '10.42.1.2:40000' };

  beforeAll(async () => {
    t = await openTestResources();
    await t.resources.create<Node>(resourceTypes.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, spec: { podCIDR: '10.42.1.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.2' }] } });
    await t.resources.create<Node>(resourceTypes.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-2' }, spec: { podCIDR: '10.42.2.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.3' }] } });
    const channel = {
      call: (node: string, method: string, params: Record<string, unknown>, options: CallOptions) => {
        calls.push({ node, method, params });
        return script(params, options);
      },
    } as unknown as NodeChannel;
    app = createApiApp({
      resources: t.resources,
      tokens: clusterTokenAuthenticator({ adminToken: tokens.admin, nodeToken: tokens.bootstrap }, { nodeFor: (s) => (s === tokens.node1 ? 'node-1' : undefined) }),
      extraRoutes: (api) => mountRelayStreamRoutes(api, t.resources, () => channel),
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('opens a tcp call to the node that runs the pod, then carries frames both ways as its messages', async () => {
    const inputs: unknown[] = [];
    let finish: ((result: unknown) => void) | undefined;
    let emit: ((data: unknown) => void) | undefined;
    script = (_params, options) => new Promise((resolve) => {
      finish = resolve;
      emit = options.onData;
      options.withInput?.((data) => inputs.push(data));
      options.onData!({ open: true });
    });
    const { response, upgrade, socket, written } = open('node-2', valid);
    expect((await response).status).toBe(204);
    expect(upgrade.accepted).toBe(true);
    expect(calls.at(-1)).toEqual({ node: 'node-2', method: 'tcp', params: { podIP: '10.42.2.5', port: 7000, source: { host: '10.42.1.2', port: 40000 }, from: 'node-1' } });
    // A -> B: a DATA frame and a FIN become input messages
    socket.push(frame(FRAME_DATA, Buffer.from('ping')));
    socket.push(frame(FRAME_FIN));
    await expect.poll(() => inputs).toEqual([{ data: Buffer.from('ping').toString('base64') }, { fin: true }]);
    // B -> A: data and FIN become frames after the 101
    emit!({ data: Buffer.from('pong').toString('base64') });
    // B's window: it is told what A's side took
    await expect.poll(() => inputs).toContainEqual({ ack: 4 });
    emit!({ fin: true });
    finish!({});
    await expect.poll(() => Buffer.concat(written).toString('latin1')).toContain('pong');
    const text = Buffer.concat(written);
    const head = text.indexOf('\r\n\r\n') + 4;
    expect(text.subarray(0, head).toString()).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    const frames = new FrameDecoder().push(text.subarray(head));
    expect(frames.map((f) => [f.type, f.payload.toString()])).toEqual([[FRAME_DATA, 'pong'], [FRAME_FIN, '']]);
  });

  it('answers the node\'s refusal with its error code, and refuses strangers and foreign addresses', async () => {
    script = async () => ({ error: { code: 'connection-refused', message: 'dial tcp 10.42.2.5:7000: connect: connection refused' } });
    const refused = await open('node-2', valid).response;
    expect(refused.status).toBe(200);
    expect(await refused.json()).toEqual({ error: { code: 'connection-refused', message: 'dial tcp 10.42.2.5:7000: connect: connection refused' } });
    expect((await open('node-2', valid, tokens.bootstrap).response).status).toBe(403);
    expect((await open('node-2', valid, null).response).status).toBe(401);
    expect((await open('node-2', { ...valid, 'x-skiff-tunnel-target': '10.42.3.5:7000' }).response).status).toBe(403);
    // a node opens connections only from its own pods' addresses
    expect((await open('node-2', { ...valid, 'x-skiff-tunnel-source': '10.42.2.9:1' }).response).status).toBe(403);
    // ...or its own address (a NodePort client after SNAT), never another node's
    expect((await open('node-2', { ...valid, 'x-skiff-tunnel-source': '127.0.0.3:0' }).response).status).toBe(403);
    expect((await open('node-2', { ...valid, 'x-skiff-tunnel-source': '127.0.0.2:0' }).response).status).toBe(200);
    expect(calls.at(-1)?.params).toMatchObject({ source: { host: '127.0.0.2', port: 0 }, from: 'node-1' });
    expect((await open('node-9', valid).response).status).toBe(404);
  });

  it('lets one node hold at most its share of relayed connections (429), and frees a slot when one ends', async () => {
    const limited = createApiApp({
      resources: t.resources,
      tokens: clusterTokenAuthenticator({ adminToken: tokens.admin, nodeToken: tokens.bootstrap }, { nodeFor: (s) => (s === tokens.node1 ? 'node-1' : undefined) }),
      extraRoutes: (api) => mountRelayStreamRoutes(api, t.resources, () => ({
        call: (_node: string, _method: string, _params: Record<string, unknown>, options: CallOptions) => new Promise((resolve) => {
          finishers.push(resolve);
          options.onData!({ open: true });
        }),
      }) as unknown as NodeChannel, { maxStreamsPerNode: 2 }),
    });
    const finishers: Array<(result: unknown) => void> = [];
    const openOn = () => {
      const socket = new Duplex({ read() {}, write(_chunk, _encoding, done) { done(); } });
      return limited.request('/skiff/v1/relay/node-2/tcp', {
        method: 'POST', headers: { connection: 'Upgrade', upgrade: 'skiff-tcp', ...valid, authorization: `Bearer ${tokens.node1}` },
      }, { upgrade: { socket, head: Buffer.alloc(0), accepted: false } });
    };
    expect((await openOn()).status).toBe(204);
    expect((await openOn()).status).toBe(204);
    const refused = await openOn();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(finishers).toHaveLength(2); // the third never reached the node
    finishers[0]!({});
    await expect.poll(async () => (await openOn()).status).toBe(204);
    for (const finish of finishers) finish({});
  });

  it('answers hostile headers and node names with 4xx, never 500 (seeded fuzz)', async () => {
    script = async () => ({ error: { code: 'connection-refused', message: 'no' } });
    const next = seededRandom(3803);
    const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
    const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '');
    for (let i = 0; i < 200; i++) {
      const headers: Record<string, string> = {
        'x-skiff-tunnel-target': pick(['10.42.2.5:7000', '10.42.2.5:0', '10.42.2.5:65536', '999.1.1.1:80', '10.42.2.5', '..', '', printable(hostileString(next, 3))]),
        'x-skiff-tunnel-source': pick(['10.42.1.2:1', '10.42.1.2:0', '10.42.1.2:70000', '1.2.3.4:5', '', '../..', 'x'.repeat(5000), printable(hostileString(next, 2))]),
      };
      if (next() < 0.2) headers['upgrade'] = pick(['websocket', 'h2c']);
      const node = pick(['node-2', 'node-1', '..', encodeURIComponent(hostileString(next, 2)) || 'x', 'n'.repeat(300)]);
      const status = (await open(node, headers).response).status;
      expect([200, 403, 404, 422], JSON.stringify(headers).slice(0, 200)).toContain(status);
    }
  });
});
