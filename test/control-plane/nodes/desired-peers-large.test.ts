import { describe, expect, it } from 'vitest';
import type { DesiredPeer, DesiredService } from '../../../api/mqtt/messages.js';
import { endpointPeers, PEERS_TO_EVERY_NODE_MAX, peersOfNode } from '../../../control-plane/nodes/desired-peers.js';
import { seededRandom } from '../../support/seeded-random.js';

const peer = (i: number, cidr: string): DesiredPeer => ({ node: `n${i}`, podCIDR: cidr, address: '127.0.0.1', port: 10250 });
const service = (ips: string[]): DesiredService => ({ namespace: 'default', name: 's', clusterIP: '10.96.0.10', ports: [{ port: 80 }], endpoints: [{ ips, ports: [{ port: 8080 }] }] } as DesiredService);

describe('peers of a node in a large cluster', () => {
  const many = Array.from({ length: PEERS_TO_EVERY_NODE_MAX + 500 }, (_, i) => peer(i, `10.${Math.floor((i + 1) / 256)}.${(i + 1) % 256}.0/24`));

  it('sends every other node while the cluster is small', () => {
    const few = many.slice(0, 3);
    expect(peersOfNode(few, () => [], 'n1').map((p) => p.node)).toEqual(['n0', 'n2']);
    expect(peersOfNode(many.slice(0, PEERS_TO_EVERY_NODE_MAX), () => [], 'n0')).toHaveLength(PEERS_TO_EVERY_NODE_MAX - 1);
  });

  it('sends only the nodes running Service endpoints beyond PEERS_TO_EVERY_NODE_MAX nodes', () => {
    const services = [service(['10.0.5.7', '10.1.0.2', '192.168.1.1', 'fd00::1', '999.1.1.1'])];
    const endpoints = endpointPeers(many, services);
    expect(endpoints.map((p) => p.node)).toEqual(['n4', 'n255']);
    expect(peersOfNode(many, () => endpoints, 'n4').map((p) => p.node)).toEqual(['n255']);
  });

  it('finds endpoint nodes of mixed block sizes like a linear scan does (seeded)', () => {
    const random = seededRandom(43);
    const peers = Array.from({ length: 300 }, (_, i) => peer(i, i % 2 ? `10.2.${i}.0/24` : `10.3.${i >> 2}.${(i & 3) * 64}/26`)).filter((p) => !p.podCIDR.includes('.256') && Number(p.podCIDR.split('.')[2]) < 256);
    const ips = Array.from({ length: 200 }, () => `10.${2 + Math.floor(random() * 2)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`);
    const inBlock = (ip: string, cidr: string) => {
      const [base, bits] = cidr.split('/') as [string, string];
      const n = (t: string) => t.split('.').reduce((a, p) => a * 256 + Number(p), 0);
      const size = 2 ** (32 - Number(bits));
      return Math.floor(n(ip) / size) === Math.floor(n(base) / size);
    };
    const expected = peers.filter((p) => ips.some((ip) => inBlock(ip, p.podCIDR)));
    expect(endpointPeers(peers, [service(ips)])).toEqual(expected);
  });
});
