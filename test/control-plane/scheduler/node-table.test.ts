// The Scheduler keeps one NodeTable across decisions: each binding and node change must
// reach its slot before the next decision (a stale slot would overfill a node or miss a cordon).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Node } from '../../../api/types/node.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aNode } from '../../support/builders.js';
import { startSchedulerHarness, type SchedulerHarness } from '../support/scheduler-harness.js';
import { aPod } from '../support/test-resources.js';

const { pods, nodes } = resourceTypes;

describe('the scheduler\'s node table', () => {
  let h: SchedulerHarness;
  beforeEach(async () => {
    h = await startSchedulerHarness();
  });
  afterEach(() => h.stop());

  const place = async (name: string) => {
    await h.t.resources.create(pods, aPod(name));
    return h.nodeOf(name);
  };
  const changeNode = (name: string, change: (n: Node) => Node, subresource?: 'status') => h.t.resources.mutate<Node>(nodes, undefined, name, change, subresource ? { subresource } : {});

  it('follows bindings and node changes from one decision to the next', async () => {
    await h.t.resources.create(nodes, aNode('n1', { pods: '2' }));
    await h.t.resources.create(nodes, aNode('n2', { pods: '2' }));
    expect(await place('a')).toBe('n1'); // a tie: by name
    // n2, empty, would score above n1, but it is cordoned
    await changeNode('n2', (n) => ({ ...n, spec: { ...n.spec, unschedulable: true } }));
    expect(await place('b')).toBe('n1');
    expect(await place('c')).toBeUndefined();
    await changeNode('n2', (n) => ({ ...n, spec: { ...n.spec, unschedulable: false } }));
    await h.pastBackoff(); // c waits out its back-off first
    expect(await h.nodeOf('c', true)).toBe('n2');
    // n1 is full since b's binding: d must not go there
    expect(await place('d')).toBe('n2');
    expect(await place('e')).toBeUndefined();
    // more room on n2: the waiting pod goes there
    await changeNode('n2', (n) => ({ ...n, status: { ...n.status, allocatable: { ...n.status!.allocatable, pods: '5' } } }), 'status');
    await h.pastBackoff();
    expect(await h.nodeOf('e', true)).toBe('n2');
  });
});
