// The Scheduler keeps one NodeTable across decisions: each binding and node change must
// reach its slot before the next decision (a stale slot would overfill a node or miss a cordon).
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Node } from '../../../api/types/node.js';
import type { Pod } from '../../../api/types/pod.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { Scheduler } from '../../../control-plane/scheduler/scheduler.js';
import { aNode } from '../../support/builders.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

const logger = pino({ level: 'silent' });
const { pods, nodes } = resourceTypes;

describe('the scheduler\'s node table', () => {
  let t: TestResources;
  let scheduler: Scheduler;
  beforeEach(async () => {
    t = await openTestResources();
    scheduler = new Scheduler({ resources: t.resources, events: new EventRecorder(t.resources, t.clock, logger), clock: t.clock, logger });
    scheduler.start();
  });
  afterEach(async () => {
    scheduler.stop();
    await t.close();
  });

  /** The pod's node, or undefined once it is found unschedulable (unless `bound`: wait for a node). */
  async function nodeOf(name: string, bound = false): Promise<string | undefined> {
    for (let i = 0; i < 500; i++) {
      await scheduler.idle();
      const pod = await t.resources.get<Pod>(pods, 'default', name);
      if (pod.spec.nodeName) return pod.spec.nodeName;
      if (!bound && pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable')) return undefined;
      await new Promise((r) => setImmediate(r));
    }
    throw new Error(`${name} neither bound nor unschedulable`);
  }
  const place = async (name: string) => {
    await t.resources.create(pods, aPod(name));
    return nodeOf(name);
  };
  const changeNode = (name: string, change: (n: Node) => Node, subresource?: 'status') => t.resources.mutate<Node>(nodes, undefined, name, change, subresource ? { subresource } : {});

  it('follows bindings and node changes from one decision to the next', async () => {
    await t.resources.create(nodes, aNode('n1', { pods: '2' }));
    await t.resources.create(nodes, aNode('n2', { pods: '2' }));
    expect(await place('a')).toBe('n1'); // a tie: by name
    // n2, empty, would score above n1, but it is cordoned
    await changeNode('n2', (n) => ({ ...n, spec: { ...n.spec, unschedulable: true } }));
    expect(await place('b')).toBe('n1');
    expect(await place('c')).toBeUndefined();
    await changeNode('n2', (n) => ({ ...n, spec: { ...n.spec, unschedulable: false } }));
    expect(await nodeOf('c', true)).toBe('n2');
    // n1 is full since b's binding: d must not go there
    expect(await place('d')).toBe('n2');
    expect(await place('e')).toBeUndefined();
    // more room on n2: the waiting pod goes there
    await changeNode('n2', (n) => ({ ...n, status: { ...n.status, allocatable: { ...n.status!.allocatable, pods: '5' } } }), 'status');
    expect(await nodeOf('e', true)).toBe('n2');
  });
});
