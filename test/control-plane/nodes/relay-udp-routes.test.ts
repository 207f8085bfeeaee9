// The UDP relay route (upgraded POST /skiff/v1/relay/NODE/udp, decision 054 "By relay"): nodes only;
// 101 once NODE took the `udp` call; every frame's source checked against the caller's pod CIDR and
// destination against NODE's (dropped and counted otherwise); the good ones batched as the call's
// input; a per-node rate (dropped and counted beyond it) and cap of links (429); a malformed frame
// ends the link; hostile headers, node names and frames never give a 500 (seeded fuzz).
import { Duplex } from 'node:stream';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayUdpMessage } from '../../../api/mqtt/relay.js';
import { encodeFrame, FrameReader, type DatagramFrame } from '../../../api/net/udp-frames.js';
import type { Node } from '../../../api/types/node.js';
import { createApiApp } from '../../../control-plane/api/api-app.js';
import { clusterTokenAuthenticator } from '../../../control-plane/credentials.js';
import type { CallOptions, NodeChannel } from '../../../control-plane/node-channel/node-channel.js';
import { mountRelayUdpRoutes, type RelayUdpCounts, type RelayUdpOptions } from '../../../control-plane/nodes/relay-udp-routes.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';
import * as v from 'valibot';

const tokens = { admin: 'admin-token', bootstrap: 'bootstrap-token', node1: 'node-1-credential' };

interface Call { node: string; method: string; params: Record<string, unknown>; inputs: unknown[]; finish: (r: unknown) => void; signal?: AbortSignal }

/** The frames carried by a call's inputs, each input checked against the message schema. */
const framesOf = (inputs: unknown[]): DatagramFrame[] => inputs.flatMap((input) => {
  if (!v.is(relayUdpMessage, input)) throw new Error(`bad input ${JSON.stringify(input).slice(0, 100)}`);
  return new FrameReader().push(Buffer.from(input.frames, 'base64'));
});

describe('the UDP relay route', () => {
  let t: TestResources;
  let clock = 0;
  const calls: Call[] = [];
  let takes = true;
  const mount = (options: RelayUdpOptions = {}): { app: Hono; counts: RelayUdpCounts } => {
    let counts: RelayUdpCounts | undefined;
    const channel = {
      call: (node: string, method: string, params: Record<string, unknown>, o: CallOptions) => new Promise((resolve) => {
        const call: Call = { node, method, params, inputs: [], finish: resolve, ...(o.signal ? { signal: o.signal } : {}) };
        calls.push(call);
        o.signal?.addEventListener('abort', () => resolve({}), { once: true });
        o.withInput?.((data) => call.inputs.push(data));
        if (takes) o.onData!({ open: true });
        else resolve({});
      }),
    } as unknown as NodeChannel;
    const app = createApiApp({
      resources: t.resources,
      tokens: clusterTokenAuthenticator({ adminToken: tokens.admin, nodeToken: tokens.bootstrap }, { nodeFor: (s) => (s === tokens.node1 ? 'node-1' : undefined) }),
      extraRoutes: (api) => { counts = mountRelayUdpRoutes(api, t.resources, () => channel, { now: () => clock, ...options }); },
    });
    return { app, counts: counts! };
  };
  const open = (app: Hono, node: string, { token = tokens.node1 as string | null, upgrade = 'skiff-udp', head = Buffer.alloc(0) } = {}) => {
    const written: Buffer[] = [];
    const socket = new Duplex({ read() {}, write(chunk: Buffer, _encoding, done) { written.push(chunk); done(); } });
    const context = { socket, head, accepted: false };
    const response = app.request(`/skiff/v1/relay/${node}/udp`, {
      method: 'POST', headers: { connection: 'Upgrade', upgrade, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    }, { upgrade: context });
    return { response, upgrade: context, socket, written };
  };
  const frame = (from: string, to: string, text: string) => Buffer.from(encodeFrame({ host: from, port: 4000 }, { host: to, port: 53 }, Buffer.from(text)));

  beforeAll(async () => {
    t = await openTestResources();
    await t.resources.create<Node>(resourceTypes.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, spec: { podCIDR: '10.42.1.0/24' } });
    await t.resources.create<Node>(resourceTypes.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-2' }, spec: { podCIDR: '10.42.2.0/24' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('passes frames from the caller\'s pods to the target\'s pods on as the udp call\'s input, and drops forged ones', async () => {
    const { app, counts } = mount();
    const first = frame('10.42.1.2', '10.42.2.5', 'in the head');
    const { response, upgrade, socket, written } = open(app, 'node-2', { head: first });
    expect((await response).status).toBe(204);
    expect(upgrade.accepted).toBe(true);
    expect(Buffer.concat(written).toString()).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    const call = calls.at(-1)!;
    expect([call.node, call.method, call.params]).toEqual(['node-2', 'udp', { from: 'node-1' }]);
    // a frame split over two chunks, then several at once, with forged ones among them
    const second = frame('10.42.1.2', '10.42.2.5', 'split');
    socket.push(second.subarray(0, 7));
    socket.push(Buffer.concat([second.subarray(7), frame('10.42.2.9', '10.42.2.5', 'from a pod of node-2'), frame('10.42.1.2', '10.42.3.5', 'to node-3'), frame('10.42.1.3', '10.42.2.6', 'last')]));
    await expect.poll(() => framesOf(call.inputs).map((f) => Buffer.from(f.data).toString())).toEqual(['in the head', 'split', 'last']);
    expect(framesOf(call.inputs).at(-1)).toMatchObject({ from: { host: '10.42.1.3', port: 4000 }, to: { host: '10.42.2.6', port: 53 } });
    expect(counts).toMatchObject({ relayed: 3, forged: 2, dropped: 0 });
    // a malformed frame ends the link, and the call
    socket.push(Buffer.from([0, 0, 0, 1, 9]));
    await expect.poll(() => socket.destroyed).toBe(true);
    expect(counts.malformed).toBe(1);
    expect(call.signal?.aborted).toBe(true);
  });

  it('refuses strangers, unknown nodes, a node that does not take the link, and more links than a node may hold', async () => {
    const { app } = mount({ maxLinksPerNode: 2 });
    expect((await open(app, 'node-2', { token: tokens.bootstrap }).response).status).toBe(403);
    expect((await open(app, 'node-2', { token: null }).response).status).toBe(401);
    expect((await open(app, 'node-9').response).status).toBe(404);
    expect((await open(app, 'node-2', { upgrade: 'websocket' }).response).status).toBe(422);
    takes = false;
    const refused = await open(app, 'node-2').response;
    takes = true;
    expect(refused.status).toBe(503);
    const a = open(app, 'node-2');
    const b = open(app, 'node-2');
    expect([(await a.response).status, (await b.response).status]).toEqual([204, 204]);
    const third = await open(app, 'node-2').response;
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    a.socket.destroy(); // a link that ends frees its slot
    await expect.poll(async () => (await open(app, 'node-2').response).status).toBe(204);
  });

  it('drops and counts what a node sends beyond its rate, and passes again once the bucket refills', async () => {
    const { app, counts } = mount({ bytesPerSecond: 1000 });
    const { response, socket } = open(app, 'node-2');
    expect((await response).status).toBe(204);
    const call = calls.at(-1)!;
    const payload = 'x'.repeat(300); // 317 bytes a frame: three fit in 1000
    socket.push(Buffer.concat(Array.from({ length: 5 }, () => frame('10.42.1.2', '10.42.2.5', payload))));
    await expect.poll(() => counts.dropped).toBe(2);
    expect(framesOf(call.inputs)).toHaveLength(3);
    clock += 1000;
    socket.push(frame('10.42.1.2', '10.42.2.5', payload));
    await expect.poll(() => framesOf(call.inputs)).toHaveLength(4);
    socket.destroy();
  });

  it('answers hostile headers, node names and frames with 4xx or drops, never 500, and passes on only checked frames (seeded fuzz)', async () => {
    const { app, counts } = mount();
    const next = seededRandom(5405);
    const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
    const ip = () => pick(['10.42.1.2', '10.42.2.5', '10.42.3.1', '0.0.0.0', '255.255.255.255', `10.42.${Math.floor(next() * 4)}.${Math.floor(next() * 256)}`]);
    for (let i = 0; i < 120; i++) {
      const node = pick(['node-2', 'node-1', '..', encodeURIComponent(hostileString(next, 2)) || 'x', 'n'.repeat(300)]);
      const upgrade = next() < 0.15 ? pick(['websocket', 'h2c', '']) : 'skiff-udp';
      const token = next() < 0.1 ? pick([tokens.bootstrap, 'nope']) : tokens.node1;
      const link = open(app, node, { upgrade, token });
      const status = (await link.response).status;
      expect([204, 401, 403, 404, 422]).toContain(status);
      if (status !== 204) continue;
      const call = calls.at(-1)!;
      const chunks: Buffer[] = [];
      for (let j = Math.floor(next() * 6); j > 0; j--) {
        const r = next();
        if (r < 0.6) chunks.push(frame(ip(), ip(), hostileString(next, 4)));
        else if (r < 0.8) chunks.push(Buffer.from(Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 256))));
        else {
          const f = frame(ip(), ip(), 'length');
          f.writeUInt32BE(pick([0, 12, 2 ** 32 - 1, 70_000]), 0);
          chunks.push(f);
        }
      }
      for (const chunk of chunks) link.socket.push(chunk);
      await new Promise((resolve) => setImmediate(resolve));
      for (const f of framesOf(call.inputs)) {
        expect(f.from.host.startsWith('10.42.1.')).toBe(true);
        expect(f.to.host.startsWith(`10.42.${node === 'node-1' ? 1 : 2}.`)).toBe(true);
      }
      link.socket.destroy();
    }
    expect(counts.relayed + counts.forged + counts.malformed).toBeGreaterThan(0);
  });
});
