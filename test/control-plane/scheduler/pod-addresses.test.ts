import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Event } from '../../../api/types/node.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { POD_IP_ANNOTATION } from '../../../api/pod-addresses.js';
import { aNode } from '../../support/builders.js';
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
});
