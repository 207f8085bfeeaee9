import { describe, expect, it } from 'vitest';
import { inIpv4Block, parseIpv4Block } from '../../api/pod-addresses.js';
import { inPodCidr } from '../../control-plane/nodes/desired-peers.js';
import { seededRandom } from '../support/seeded-random.js';

describe('pod addresses', () => {
  it('parses blocks strictly and tells membership for any prefix', () => {
    expect(parseIpv4Block('10.42.7.9/24')).toEqual({ base: (10 * 2 ** 24) + (42 * 2 ** 16) + (7 * 256), prefix: 24 });
    for (const bad of ['10.42.0.0', '10.42.0.0/33', '256.1.1.1/8', '10.42.0.0/-1', ' 10.0.0.0/8', '10.0.0.0/8\n', '1.2.3/8', '', 'a'.repeat(10_000)]) {
      expect(parseIpv4Block(bad)).toBeUndefined();
    }
    expect(inIpv4Block('10.255.255.255', '10.0.0.0/8')).toBe(true);
    expect(inIpv4Block('11.0.0.0', '10.0.0.0/8')).toBe(false);
    expect(inIpv4Block('10.0.1.127', '10.0.1.64/26')).toBe(true);
    expect(inIpv4Block('10.0.1.128', '10.0.1.64/26')).toBe(false);
    expect(inIpv4Block('10.0.1.300', '10.0.1.0/24')).toBe(false);
    expect(inPodCidr('10.0.1.70', '10.0.1.64/26')).toBe(true);
    expect(inPodCidr('10.0.1.70', '10.0.0.0/7')).toBe(false); // wider than a node block may be
  });

  it('agrees with a bit-by-bit reference on seeded random addresses and blocks', () => {
    const random = seededRandom(13);
    const octet = () => Math.floor(random() * 256);
    for (let i = 0; i < 5_000; i++) {
      const prefix = 8 + Math.floor(random() * 25);
      const cidr = `${octet()}.${octet()}.${octet()}.${octet()}/${prefix}`;
      const ip = `${octet()}.${octet()}.${octet()}.${octet()}`;
      const bits = (text: string) => text.split('.').map((p) => Number(p).toString(2).padStart(8, '0')).join('');
      const expected = bits(ip).slice(0, prefix) === bits(cidr.split('/')[0]!).slice(0, prefix);
      expect(inIpv4Block(ip, cidr)).toBe(expected);
      expect(inPodCidr(ip, cidr)).toBe(expected);
    }
  });
});
