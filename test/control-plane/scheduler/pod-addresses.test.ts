import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Event } from '../../../api/types/node.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { POD_IP_ANNOTATION } from '../../../api/pod-addresses.js';
import { PodAddressCursors } from '../../../control-plane/scheduler/pod-address-cursors.js';
import { aNode } from '../../support/builders.js';
import { seededRandom } from '../../support/seeded-random.js';
import { startSchedulerHarness, type SchedulerHarness } from '../support/scheduler-harness.js';
import { aPod } from '../support/test-resources.js';

const { pods, nodes } = resourceTypes;

describe('pod addresses from the node\'s pod CIDR', () => {
  let h: SchedulerHarness;
  let t: SchedulerHarness['t'];
  beforeEach(async () => {
    h = await startSchedulerHarness();
    t = h.t;
  });
  afterEach(() => h.stop());

  const until = <T>(what: string, get: () => Promise<T | undefined>) => h.until(what, get);
  const address = async (name: string) => (await h.pod(name)).metadata.annotations?.[POD_IP_ANNOTATION];

  it('gives distinct addresses to scheduled pods and to pods created with spec.nodeName', async () => {
    const node = aNode('n1');
    await t.resources.create(nodes, node);
    await t.resources.create(pods, aPod('scheduled'));
    await t.resources.create(pods, aPod('static', { nodeName: 'n1' }));
    const a = await until('scheduled pod address', () => address('scheduled'));
    const b = await until('static pod address', () => address('static'));
    const prefix = node.spec.podCIDR!.split('.').slice(0, 3).join('.');
    expect(a.startsWith(`${prefix}.`) && b.startsWith(`${prefix}.`)).toBe(true);
    expect(a).not.toBe(b);
  });

  it('addresses a static pod once its node registers with a pod CIDR', async () => {
    await t.resources.create(pods, aPod('early', { nodeName: 'n2' }));
    await h.scheduler.idle();
    expect(await address('early')).toBeUndefined();
    await t.resources.create(nodes, aNode('n2'));
    expect(await until('address after the node came', () => address('early'))).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it('reports a node out of addresses, and gives one when an address is freed', async () => {
    await t.resources.create(nodes, aNode('full')); // a /24: .2 to .254, 253 addresses
    const names = Array.from({ length: 254 }, (_, i) => `p${i}`);
    for (const name of names) await t.resources.create(pods, aPod(name, { nodeName: 'full' }));
    const events = async () => (await t.resources.list<Event>(resourceTypes.events, { namespace: 'default' })).items.filter((e) => e.reason === 'FailedCreatePodSandBox');
    const failed = await until('an out-of-addresses event', async () => (await events())[0]);
    expect(failed.message).toBe('no free pod IP in 10.42.1.0/24 on node full');
    const addresses = await Promise.all(names.map(address));
    expect(addresses.filter(Boolean)).toHaveLength(253);
    const waiting = names[addresses.findIndex((a) => !a)]!;
    const holder = names.find((n) => n !== waiting)!;
    const freed = await address(holder);
    await t.resources.delete(pods, 'default', holder, { gracePeriodSeconds: 0 });
    expect(await until('the freed address taken', () => address(waiting))).toBe(freed);
  }, 60_000);

  it('never hands an address out twice, after deletions and once the block wraps round, and not a freed one while others are free', async () => {
    const small = aNode('small');
    small.spec.podCIDR = '10.42.9.0/28'; // .2 to .14: 13 addresses
    await t.resources.create(nodes, small);
    const next = seededRandom(71);
    const live = new Set<string>();
    let n = 0;
    const liveAddresses = async () => Promise.all([...live].map(async (name) => (await until(`${name} address`, () => address(name)))));
    const check = async () => {
      const addresses = await liveAddresses();
      expect(new Set(addresses).size).toBe(addresses.length);
      for (const a of addresses) expect(a).toMatch(/^10\.42\.9\.([2-9]|1[0-4])$/);
      return addresses;
    };
    const add = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const name = `q${n++}`;
        live.add(name);
        await t.resources.create(pods, aPod(name));
      }
    };
    // next-fit: the address freed is not the next one handed out while others are free
    await add(3);
    const [first] = await check();
    await t.resources.delete(pods, 'default', 'q0', { gracePeriodSeconds: 0 });
    live.delete('q0');
    await add(1);
    expect(await until('q3 address', () => address('q3'))).toBe('10.42.9.5');
    expect(first).toBe('10.42.9.2');
    // then fill the block, free some at random and fill it again, round after round
    for (let round = 0; round < 6; round++) {
      await add(13 - live.size);
      await check();
      for (const name of [...live].filter(() => next() < 0.4)) {
        await t.resources.delete(pods, 'default', name, { gracePeriodSeconds: 0 });
        live.delete(name);
      }
    }
    await add(13 - live.size);
    expect((await check()).length).toBe(13);
  }, 60_000);
});

describe('pod address cursors', () => {
  it('gives a free address of the block, next after the last, wrapping round, none when full (seeded)', () => {
    const next = seededRandom(72);
    const cursors = new PodAddressCursors();
    const node = aNode('n');
    node.spec.podCIDR = '10.1.0.64/27'; // .66 to .94: 29 addresses
    const used = new Map<string, number>();
    let last: number | undefined;
    for (let step = 0; step < 5000; step++) {
      if (next() < 0.45 && used.size) {
        const victims = [...used.keys()];
        used.delete(victims[Math.floor(next() * victims.length)]!);
        continue;
      }
      const ip = cursors.next(node, used);
      if (used.size === 29) {
        expect(ip).toBeUndefined();
        continue;
      }
      expect(ip).toBeDefined();
      expect(used.has(ip!)).toBe(false);
      const octet = Number(ip!.split('.')[3]);
      expect(octet).toBeGreaterThanOrEqual(66);
      expect(octet).toBeLessThanOrEqual(94);
      // the first free one from just after the last handed out, wrapping round
      if (last !== undefined) {
        for (let o = last + 1; ; o++) {
          const candidate = o > 94 ? o - 29 : o;
          if (candidate === octet) break;
          expect(used.has(`10.1.0.${candidate}`)).toBe(true);
        }
      }
      last = octet;
      used.set(ip!, 1);
    }
    node.spec.podCIDR = '10.1.1.0/30'; // a new block: the cursor starts over
    expect(cursors.next(node, new Map())).toBe('10.1.1.2');
    expect(cursors.next(node, new Map([['10.1.1.2', 1]]))).toBeUndefined();
  });

  it('uses blocks of any size: .2 to the one before the broadcast address; none in a /31 or a bad CIDR', () => {
    const inBlock = (cidr: string, used: string[] = []) => {
      const node = aNode('n');
      node.spec.podCIDR = cidr;
      return new PodAddressCursors().next(node, new Set(used));
    };
    expect(inBlock('10.42.2.0/24')).toBe('10.42.2.2');
    expect(inBlock('10.42.2.0/24', Array.from({ length: 252 }, (_, i) => `10.42.2.${i + 2}`))).toBe('10.42.2.254');
    expect(inBlock('10.42.2.0/24', Array.from({ length: 253 }, (_, i) => `10.42.2.${i + 2}`))).toBeUndefined();
    expect(inBlock('10.0.1.64/26')).toBe('10.0.1.66');
    expect(inBlock('10.0.1.64/26', Array.from({ length: 61 }, (_, i) => `10.0.1.${66 + i}`))).toBeUndefined();
    expect(inBlock('10.1.0.0/23', Array.from({ length: 254 }, (_, i) => `10.1.0.${i + 2}`))).toBe('10.1.1.0');
    expect(inBlock('10.0.0.4/30')).toBe('10.0.0.6');
    expect(inBlock('10.0.0.4/30', ['10.0.0.6'])).toBeUndefined();
    expect(inBlock('10.0.0.4/31')).toBeUndefined();
    expect(inBlock('not a cidr')).toBeUndefined();
  });
});
