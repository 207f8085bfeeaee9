// UDP pieces alone (decision 054): the per-run relay's bounded receive queue (drops counted, the
// bound follows receive-buffer-size), the pod's UDP port table, Service flows (one endpoint per
// flow, expiry, reverse NAT of replies), the routing's policy checks and errors, and datagram
// frames under any split and hostile bytes (seeded).
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { encodeFrame, FrameReader, MAX_FRAME_BYTES } from '../../../agent/network/udp-frames.js';
import { UDP_FLOW_TIMEOUT_MS, UdpFlows } from '../../../agent/network/udp-flows.js';
import { EPHEMERAL_FIRST, PodUdpPorts } from '../../../agent/pods/pod-udp-ports.js';
import { PodNetwork } from '../../../agent/pods/pod-network.js';
import { createUdpCounters, UDP_DROPPED, UDP_LIMIT, UDP_QUEUED, UDP_UNSENT, type DatagramReceiver } from '../../../runtime/net/udp-messages.js';
import { UdpRelay } from '../../../runtime/net/udp-relay.js';
import { PodNetworkError, type PodNetworkPorts } from '../../../runtime/pod-runtime.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';

describe('the run relay', () => {
  it('queues datagrams up to the socket bound, then drops and counts them', () => {
    let receiver: DatagramReceiver | undefined;
    const network: PodNetworkPorts = {
      listening: () => undefined, closed: () => undefined,
      bindUdp: (port, receive) => ((receiver = receive), port || 40000),
      unbindUdp: () => undefined,
      sendDatagram: () => undefined,
    };
    const posted: unknown[] = [];
    const relay = new UdpRelay(network, (message) => posted.push(message), () => undefined);
    const counters = createUdpCounters(65_536);
    relay.handle({ id: -1, kind: 'udp-bind', port: 0, counters: counters.buffer as SharedArrayBuffer });
    expect(posted[0]).toEqual({ id: -1, bound: 40000 });
    const datagram = new Uint8Array(30_000);
    expect(receiver!({ host: '10.42.0.9', port: 5 }, datagram)).toBe(true);
    expect(receiver!({ host: '10.42.0.9', port: 5 }, datagram)).toBe(true);
    expect(receiver!({ host: '10.42.0.9', port: 5 }, datagram)).toBe(false); // 90,000 > 65,536
    expect(Atomics.load(counters, UDP_QUEUED)).toBe(60_000);
    expect(Atomics.load(counters, UDP_DROPPED)).toBe(1);
    expect(relay.dropped).toBe(1);
    // the guest took one: room again; a larger receive-buffer-size takes more
    Atomics.sub(counters, UDP_QUEUED, 30_000);
    expect(receiver!({ host: '10.42.0.9', port: 5 }, datagram)).toBe(true);
    Atomics.store(counters, UDP_LIMIT, 1 << 20);
    expect(receiver!({ host: '10.42.0.9', port: 5 }, datagram)).toBe(true);
    expect(posted.filter((m) => (m as { kind?: string }).kind === 'datagram')).toHaveLength(4);
    // the run ends: nothing more is taken
    relay.close();
    expect(receiver!({ host: '10.42.0.9', port: 5 }, datagram)).toBe(false);
  });

  it('answers a waited send with the refusal, and gives the send window back', async () => {
    const network: PodNetworkPorts = {
      listening: () => undefined, closed: () => undefined,
      bindUdp: (port) => port, unbindUdp: () => undefined,
      sendDatagram: (_local, host) => {
        if (host === '192.0.2.7') throw new PodNetworkError('destination-IP-prohibited', 'egress denied');
      },
    };
    const { port1, port2 } = new MessageChannel();
    const relay = new UdpRelay(network, (message) => port1.postMessage(message), () => undefined);
    const counters = createUdpCounters();
    relay.handle({ id: -1, kind: 'udp-bind', port: 5353, counters: counters.buffer as SharedArrayBuffer });
    Atomics.add(counters, UDP_UNSENT, 10);
    relay.handle({ id: -2, kind: 'udp-send', localPort: 5353, host: '192.0.2.7', port: 53, data: new Uint8Array(10), wait: true });
    await new Promise((resolve) => setImmediate(resolve));
    const replies = [receiveMessageOnPort(port2)?.message, receiveMessageOnPort(port2)?.message];
    expect(replies[1]).toEqual({ id: -2, error: { code: 'destination-IP-prohibited', message: 'egress denied' } });
    expect(Atomics.load(counters, UDP_UNSENT)).toBe(0);
    port1.close();
  });
});

describe('the pod UDP ports', () => {
  it('binds ports exclusively, picks ephemeral ones, and releases an instance\'s ports', () => {
    const ports = new PodUdpPorts();
    const take = () => true;
    expect(ports.bind('a', 'a', 53, take)).toBe(53);
    expect(ports.bind('b', 'b', 53, take)).toBe('address-in-use');
    expect(ports.bind('b', 'b', 70_000, take)).toBe('address-in-use');
    expect(ports.bind('b', 'b', 0, take)).toBe(EPHEMERAL_FIRST);
    expect(ports.bind('b', 'b', 0, take)).toBe(EPHEMERAL_FIRST + 1);
    expect(ports.deliver(54, { host: '10.42.0.2', port: 1 }, new Uint8Array(1))).toBe(false);
    expect(ports.counts.unbound).toBe(1);
    ports.release('b');
    expect(ports.openPorts).toEqual([53]);
    ports.unbind(53, () => true); // not its receiver: kept
    expect(ports.openPorts).toEqual([53]);
  });
});

describe('Service flows', () => {
  it('keeps a flow on its endpoint, chooses again after the timeout, and rewrites replies', () => {
    let now = 0;
    const flows = new UdpFlows(() => now);
    let next = 0;
    const endpoints = [{ ip: '10.42.0.2', port: 7001 }, { ip: '10.42.0.3', port: 7001 }];
    const choose = () => endpoints[next++ % 2]!;
    const client = { host: '10.42.0.9', port: 40000 };
    const service = { host: '10.96.0.5', port: 53 };
    expect(flows.endpoint(client, service, choose, () => true)).toEqual(endpoints[0]);
    expect(flows.endpoint(client, service, choose, () => true)).toEqual(endpoints[0]);
    expect(flows.endpoint({ ...client, port: 40001 }, service, choose, () => true)).toEqual(endpoints[1]);
    expect(flows.replySource({ host: '10.42.0.2', port: 7001 }, client)).toEqual(service);
    expect(flows.replySource({ host: '10.42.0.2', port: 7002 }, client)).toEqual({ host: '10.42.0.2', port: 7002 });
    now += UDP_FLOW_TIMEOUT_MS + 1;
    expect(flows.replySource({ host: '10.42.0.2', port: 7001 }, client)).toEqual({ host: '10.42.0.2', port: 7001 });
    expect(flows.endpoint(client, service, choose, () => true)).toEqual(endpoints[0]);
    // an endpoint that is no longer Ready: the flow moves
    expect(flows.endpoint(client, service, choose, (e) => e.ip !== '10.42.0.2')).toEqual(endpoints[1]);
  });
});

describe('the routing', () => {
  it('refuses what policies deny, unknown pod IPs and outside addresses, and delivers the rest', () => {
    const node = new NodeNetwork();
    const network = (ip: string) => {
      const pod = new PodNetwork({ podIP: () => ip });
      node.attach(ip, { namespace: 'default', name: ip, network: pod });
      return pod;
    };
    const a = network('10.42.0.2');
    const b = network('10.42.0.3');
    const got: string[] = [];
    b.udp.bind('x', 'x', 53, (from, data) => (got.push(`${from.host}:${from.port} ${data.length}`), true));
    node.udp.send({ network: a }, 4000, '10.42.0.3', 53, new Uint8Array(3));
    node.udp.send({ network: b }, 4000, '127.0.0.1', 53, new Uint8Array(1));
    expect(got).toEqual(['10.42.0.2:4000 3', '127.0.0.1:4000 1']);
    expect(() => node.udp.send({ network: a }, 4000, '10.42.9.9', 53, new Uint8Array(1))).toThrow(/no pod of this node/);
    expect(() => node.udp.send({ network: a }, 4000, '192.0.2.7', 53, new Uint8Array(1))).toThrow(/out of the cluster is denied/);
    node.policies.set([{ namespace: 'default', name: 'deny', pods: [{ ip: '10.42.0.3' }], ingress: [] }]);
    expect(() => node.udp.send({ network: a }, 4000, '10.42.0.3', 53, new Uint8Array(1))).toThrow(/dial udp 10\.42\.0\.3:53: connection denied by NetworkPolicy/);
  });

  it('never throws anything but PodNetworkError for hostile addresses (seeded)', () => {
    const node = new NodeNetwork();
    const source = new PodNetwork({ podIP: () => '10.42.0.2' });
    const next = seededRandom(5402);
    for (let i = 0; i < 500; i++) {
      const host = next() < 0.5 ? hostileString(next, 3) : ['10.42.0.2', '::1', '127.0.0.1', '10.96.0.1', '0.0.0.0', '::ffff:10.42.0.2'][i % 6]!;
      const port = [0, -1, 1.5, 65536, 53, Number.NaN, 2 ** 53][i % 7]!;
      try {
        const result = node.udp.send({ network: source }, [4000, 0, 70000][i % 3]!, host, port, new Uint8Array(i % 17));
        if (result) void result.catch(() => undefined);
      } catch (error) {
        expect(error).toBeInstanceOf(PodNetworkError);
      }
    }
  });
});

describe('datagram frames', () => {
  it('come out as they went in, however the bytes are split (seeded)', () => {
    const next = seededRandom(5403);
    const frames = Array.from({ length: 40 }, (_, i) => ({
      from: { host: `10.42.${i % 3}.${1 + (i % 250)}`, port: 1 + ((i * 977) % 65535) },
      to: { host: '10.42.2.5', port: 7001 },
      data: Uint8Array.from({ length: i === 7 ? 65_507 : [0, 1, 512, 2048][i % 4]! }, (_, j) => (i + j) & 0xff),
    }));
    const bytes = Buffer.concat(frames.map((f) => encodeFrame(f.from, f.to, f.data)));
    const reader = new FrameReader();
    const out = [];
    for (let offset = 0; offset < bytes.length;) {
      const size = 1 + Math.floor(next() * 100_000);
      out.push(...reader.push(bytes.subarray(offset, offset + size)));
      offset += size;
    }
    expect(out).toEqual(frames);
    expect(reader.buffered).toBe(0);
  });

  it('stop at hostile bytes and keep the frames before them (seeded)', () => {
    const next = seededRandom(5404);
    for (let round = 0; round < 300; round++) {
      const reader = new FrameReader();
      const good = encodeFrame({ host: '10.42.1.2', port: 9 }, { host: '10.42.2.5', port: 7001 }, new Uint8Array(4));
      const junk = Buffer.from(hostileString(next, 4));
      const out = reader.push(Buffer.concat([good, junk]));
      expect(out.length).toBeGreaterThanOrEqual(1);
      expect(reader.buffered).toBeLessThanOrEqual(4 + MAX_FRAME_BYTES);
      if (reader.broken) expect(reader.push(good)).toEqual([]);
    }
    expect(() => encodeFrame({ host: '::1', port: 1 }, { host: '10.42.2.5', port: 1 }, new Uint8Array(1))).toThrow(/ipv4/);
    expect(() => encodeFrame({ host: '10.42.1.2', port: 0 }, { host: '10.42.2.5', port: 1 }, new Uint8Array(1))).toThrow(/ports/);
    expect(() => encodeFrame({ host: '10.42.1.2', port: 1 }, { host: '10.42.2.5', port: 1 }, new Uint8Array(65_508))).toThrow(/larger/);
  });
});
