import { describe, expect, it } from 'vitest';
import { inIpv4Block, parseIpv4Block } from '../../../api/pod-addresses.js';
import { PodCidrAllocator, podCidrSettingsProblem } from '../../../control-plane/nodes/pod-cidr-allocator.js';
import { seededRandom } from '../../support/seeded-random.js';

function distinct(allocator: PodCidrAllocator, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const cidr = allocator.allocate();
    if (!cidr) throw new Error(`full after ${i}`);
    out.push(cidr);
  }
  expect(new Set(out).size).toBe(n);
  return out;
}

/** No two blocks overlap and every one lies in the cluster CIDR with the node mask. */
function expectDisjoint(cidrs: string[], cluster: string, mask: number): void {
  const starts = cidrs.map((c) => {
    const b = parseIpv4Block(c)!;
    expect(b.prefix).toBe(mask);
    expect(inIpv4Block(c.split('/')[0]!, cluster)).toBe(true);
    return b.base;
  }).sort((a, b) => a - b);
  for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(2 ** (32 - mask));
}

describe('pod CIDR allocator', () => {
  it('gives the first node 10.42.1.0/24 by default, then the next blocks', () => {
    const a = new PodCidrAllocator();
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual(['10.42.1.0/24', '10.42.2.0/24', '10.42.3.0/24']);
    expect(a.free).toBe(255 - 3);
  });

  it('gives 10,000 nodes distinct blocks with a /8 cluster CIDR', () => {
    const a = new PodCidrAllocator({ clusterCidr: '10.0.0.0/8', nodeCidrMaskSize: 24 });
    const cidrs = distinct(a, 10_000);
    expect(cidrs[0]).toBe('10.0.1.0/24');
    expect(cidrs[9_999]).toBe('10.39.16.0/24');
    expectDisjoint(cidrs, '10.0.0.0/8', 24);
  });

  it('gives 10,000 nodes distinct /26 blocks of a /12 (16,383 blocks); a /16 of /26 holds 1,023 nodes, then none', () => {
    const wide = new PodCidrAllocator({ clusterCidr: '10.32.0.0/12', nodeCidrMaskSize: 26 });
    expectDisjoint(distinct(wide, 10_000), '10.32.0.0/12', 26);
    const narrow = new PodCidrAllocator({ clusterCidr: '10.42.0.0/16', nodeCidrMaskSize: 26 });
    const cidrs = distinct(narrow, 1_023);
    expect(cidrs.slice(0, 2)).toEqual(['10.42.0.64/26', '10.42.0.128/26']);
    expect(cidrs.at(-1)).toBe('10.42.255.192/26');
    expect(narrow.allocate()).toBeUndefined();
    expect(narrow.free).toBe(0);
  });

  it('frees a released block, hands out blocks after the last one first, and reuses freed ones when it wraps', () => {
    const a = new PodCidrAllocator({ clusterCidr: '10.9.0.0/22', nodeCidrMaskSize: 24 }); // blocks 1..3
    expect(distinct(a, 3)).toEqual(['10.9.1.0/24', '10.9.2.0/24', '10.9.3.0/24']);
    expect(a.allocate()).toBeUndefined();
    expect(a.release('10.9.2.0/24')).toBe(true);
    expect(a.release('10.9.2.0/24')).toBe(false);
    expect(a.allocate()).toBe('10.9.2.0/24');
    expect(a.release('10.9.1.0/24')).toBe(true);
    expect(a.release('10.9.3.0/24')).toBe(true);
    expect(a.allocate()).toBe('10.9.3.0/24'); // after 10.9.2.0, the last given
    expect(a.allocate()).toBe('10.9.1.0/24');
  });

  it('rebuilds from the blocks Nodes hold and ignores ones that are not its own', () => {
    const a = new PodCidrAllocator({ clusterCidr: '10.9.0.0/22', nodeCidrMaskSize: 24 });
    expect(a.occupy('10.9.1.0/24')).toBe(true);
    expect(a.occupy('10.9.1.0/24')).toBe(true);
    for (const foreign of ['10.9.0.0/24', '10.9.4.0/24', '10.9.1.0/25', '10.9.1.5/24', '10.09.1.0/24', 'x', undefined]) {
      expect(a.occupy(foreign)).toBe(false);
      expect(a.release(foreign)).toBe(false);
    }
    expect(a.free).toBe(2);
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual(['10.9.2.0/24', '10.9.3.0/24', undefined]);
  });

  it('refuses settings kube-controller-manager refuses', () => {
    expect(podCidrSettingsProblem({})).toBeUndefined();
    expect(podCidrSettingsProblem({ clusterCidr: '10.0.0.0/8', nodeCidrMaskSize: 24 })).toBeUndefined();
    expect(podCidrSettingsProblem({ clusterCidr: '10.0.0.0/8', nodeCidrMaskSize: 26 })).toMatch(/more than 16 bits/);
    expect(podCidrSettingsProblem({ clusterCidr: '10.42.0.0/16', nodeCidrMaskSize: 12 })).toMatch(/between/);
    expect(podCidrSettingsProblem({ clusterCidr: '10.42.0.0/16', nodeCidrMaskSize: 31 })).toMatch(/between/);
    expect(podCidrSettingsProblem({ clusterCidr: '10.42.0.0/16', nodeCidrMaskSize: 24.5 })).toMatch(/between/);
    expect(podCidrSettingsProblem({ clusterCidr: '4.0.0.0/6' })).toMatch(/at least \/8/);
    expect(podCidrSettingsProblem({ clusterCidr: 'fd00::/64' })).toMatch(/no IPv4 CIDR/);
    expect(() => new PodCidrAllocator({ clusterCidr: '300.0.0.0/8' })).toThrow(/no IPv4 CIDR/);
  });

  it('never gives a block twice nor loses one, under a seeded storm of allocations, releases and occupations', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = seededRandom(seed);
      const prefix = 8 + Math.floor(random() * 17);
      const mask = Math.min(30, prefix + 1 + Math.floor(random() * 10));
      const octets = Array.from({ length: 4 }, () => Math.floor(random() * 256)).join('.');
      const block = parseIpv4Block(`${octets}/${prefix}`)!;
      const cluster = `${[block.base >>> 24, (block.base >>> 16) & 255, (block.base >>> 8) & 255, block.base & 255].join('.')}/${prefix}`;
      const a = new PodCidrAllocator({ clusterCidr: cluster, nodeCidrMaskSize: mask });
      const held = new Set<string>();
      for (let step = 0; step < 3_000; step++) {
        const r = random();
        if (r < 0.55) {
          const cidr = a.allocate();
          if (cidr === undefined) expect(held.size).toBe(a.blocks - 1);
          else {
            expect(held.has(cidr)).toBe(false);
            expect(a.indexOf(cidr)).toBeGreaterThan(0);
            held.add(cidr);
          }
        } else if (r < 0.85 && held.size) {
          const cidr = [...held][Math.floor(random() * held.size)]!;
          expect(a.release(cidr)).toBe(true);
          held.delete(cidr);
        } else {
          const index = 1 + Math.floor(random() * (a.blocks - 1));
          const cidr = a.cidrOf(index);
          expect(a.occupy(cidr)).toBe(true);
          held.add(cidr);
        }
        expect(a.free).toBe(a.blocks - 1 - held.size);
      }
    }
  });
});
