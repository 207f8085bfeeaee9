// The agent's cache of on-demand peers: owners kept by block (one ask serves every pod of a node)
// until they expire, "nobody" kept briefly by address, one request for concurrent asks, failures
// not cached, answers whose block does not hold the address not believed; and the routing of
// NodeNetwork: a pod IP no peer holds is looked up, then carried to that node.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { DesiredPeer } from '../../../api/mqtt/messages.js';
import { PeerLookup } from '../../../agent/network/peer-lookup.js';
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { PodNetworkError } from '../../../runtime/pod-runtime.js';
import { PodNetwork } from '../../../agent/pods/pod-network.js';

const peer: DesiredPeer = { node: 'node-7', podCIDR: '10.42.7.0/24', address: '127.0.0.7', port: 4000 };

function lookup(answer: (ip: string) => Promise<DesiredPeer | undefined>) {
  let now = 1_000_000; // lru-cache takes a start time of 0 as "no expiry"
  const asked: string[] = [];
  const l = new PeerLookup({ fetch: (ip) => (asked.push(ip), answer(ip)), now: () => now, ttlMs: 60_000, negativeTtlMs: 5_000 });
  return { l, asked, advance: (ms: number) => (now += ms) };
}

describe('PeerLookup', () => {
  it('asks once per block while the answer is fresh, and again after it expired', async () => {
    const { l, asked, advance } = lookup(async (ip) => (ip.startsWith('10.42.7.') ? peer : undefined));
    expect(await l.owner('10.42.7.3')).toEqual(peer);
    expect(await l.owner('10.42.7.200')).toEqual(peer);
    expect(l.cached('10.42.7.9')).toEqual(peer);
    expect(asked).toEqual(['10.42.7.3']);
    advance(60_001);
    expect(l.cached('10.42.7.9')).toBeUndefined();
    expect(await l.owner('10.42.7.9')).toEqual(peer);
    expect(asked).toEqual(['10.42.7.3', '10.42.7.9']);
  });

  it('keeps "no node" briefly, per address', async () => {
    const { l, asked, advance } = lookup(async () => undefined);
    expect(await l.owner('10.42.9.1')).toBeUndefined();
    expect(await l.owner('10.42.9.1')).toBeUndefined();
    expect(asked).toEqual(['10.42.9.1']);
    expect(await l.owner('10.42.9.2')).toBeUndefined();
    advance(5_001);
    await l.owner('10.42.9.1');
    expect(asked).toEqual(['10.42.9.1', '10.42.9.2', '10.42.9.1']);
  });

  it('shares one request between concurrent asks; a failure is not cached', async () => {
    let fail = true;
    const { l, asked } = lookup(async () => {
      await new Promise((r) => setImmediate(r));
      if (fail) throw new Error('503');
      return peer;
    });
    const all = await Promise.allSettled([l.owner('10.42.7.1'), l.owner('10.42.7.1'), l.owner('10.42.7.1')]);
    expect(all.every((r) => r.status === 'rejected')).toBe(true);
    expect(asked).toHaveLength(1);
    fail = false;
    expect(await l.owner('10.42.7.1')).toEqual(peer);
    expect(asked).toHaveLength(2);
  });

  it('does not believe an answer whose pod CIDR does not hold the address, and asks nothing for non-IPv4', async () => {
    const { l, asked } = lookup(async () => peer);
    expect(await l.owner('10.42.8.1')).toBeUndefined();
    expect(l.cached('10.42.7.1')).toBeUndefined();
    expect(await l.owner('fd00::1')).toBeUndefined();
    expect(await l.owner('not-an-ip')).toBeUndefined();
    expect(asked).toEqual(['10.42.8.1']);
  });
});

describe('NodeNetwork with on-demand peers', () => {
  const request = (authority: string) => ({ method: 'GET', pathWithQuery: '/', scheme: 'http' as const, authority, headers: [], body: new Uint8Array() });
  const source = () => ({ namespace: 'default', network: new PodNetwork({ podIP: () => '10.42.1.5' }) });

  it('looks up the owner of a pod IP no peer holds and carries the request to it; unknown stays prohibited', async () => {
    const network = new NodeNetwork();
    const carried: Array<[string, string]> = [];
    network.remote = { request: async (p, podIP) => (carried.push([p.node, podIP]), { status: 200, headers: [], body: new Uint8Array() }) };
    const { l, asked } = lookup(async (ip) => (ip.startsWith('10.42.7.') ? peer : undefined));
    network.peerLookup = l;
    expect((await network.httpRequest(source(), request('10.42.7.3:8080'), 1000)).status).toBe(200);
    expect(carried).toEqual([['node-7', '10.42.7.3']]);
    expect(network.knownOwner('10.42.7.4')).toEqual(peer);
    await expect(network.httpRequest(source(), request('10.42.9.3:8080'), 1000)).rejects.toMatchObject({ code: 'destination-IP-prohibited' });
    // outside the pod network: never asked
    await expect(network.httpRequest(source(), request('10.43.0.1:80'), 1000)).rejects.toBeInstanceOf(PodNetworkError);
    expect(asked).toEqual(['10.42.7.3', '10.42.9.3']);
  });

  it('says the control plane could not tell when the lookup fails (destination-unavailable)', async () => {
    const network = new NodeNetwork();
    network.remote = { request: async () => ({ status: 200, headers: [], body: new Uint8Array() }) };
    network.peerLookup = lookup(async () => { throw new Error('the control plane answered 429'); }).l;
    await expect(network.httpRequest(source(), request('10.42.7.3:8080'), 1000)).rejects.toMatchObject({ code: 'destination-unavailable', message: expect.stringMatching(/429/) });
  });

  it('looks up the owner for a raw TCP connect and a UDP datagram too', async () => {
    const network = new NodeNetwork();
    const streams: string[] = [];
    const datagrams: string[] = [];
    network.remote = {
      request: async () => ({ status: 200, headers: [], body: new Uint8Array() }),
      openStream: async (p, podIP, port) => (streams.push(`${p.node} ${podIP}:${port}`), new PassThrough()),
    };
    network.udp.remote = (p, _from, podIP, port) => void datagrams.push(`${p.node} ${podIP}:${port}`);
    const { l, asked } = lookup(async (ip) => (ip.startsWith('10.42.7.') ? peer : undefined));
    network.peerLookup = l;
    const src = source();
    await network.connect(src, '10.42.7.3', 7000, 40000);
    expect(streams).toEqual(['node-7 10.42.7.3:7000']);
    await network.udp.send(src, 4000, '10.42.7.4', 53, new Uint8Array([1]));
    expect(datagrams).toEqual(['node-7 10.42.7.4:53']);
    expect(asked).toEqual(['10.42.7.3']); // one lookup for the block
    await expect(Promise.resolve().then(() => network.connect(src, '10.42.9.3', 7000, 40001))).rejects.toMatchObject({ code: 'destination-IP-prohibited' });
  });
});
