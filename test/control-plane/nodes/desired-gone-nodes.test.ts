// A deleted Node leaves nothing retained (issue 13): the real DesiredPublisher clears its desired
// state, policies part and presence, publishes nothing more for it while its pods go away, and
// publishes again once a Node of that name exists; a starting control plane clears what the broker
// retains for names without a Node (deleted while it was down), and nothing of any other node.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { DesiredPublisher } from '../../../control-plane/nodes/desired-publisher.js';
import { GoneNodes } from '../../../control-plane/nodes/gone-nodes.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aNode } from '../../support/builders.js';
import { desiredRecorder, type DesiredRecorder } from '../support/desired-recorder.js';
import { startRecordedPublisher } from '../support/recorded-publisher.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

describe('deleted nodes and the retained desired state', () => {
  let t: TestResources | undefined;
  let publisher: DesiredPublisher | undefined;
  afterEach(async () => {
    publisher?.stop();
    await t?.close();
  });

  let settle: () => Promise<void> = async () => {};
  async function start(recorder: DesiredRecorder) {
    ({ publisher, settle } = await startRecordedPublisher(t!, recorder));
  }
  const clearedNodes = (r: DesiredRecorder) => r.cleared.map((c) => `${c.node}:${c.kinds.join(',')}`).sort();

  it('clears a deleted node\'s topics, sends nothing for it while its pods go, and publishes again when it is back', async () => {
    t = await openTestResources();
    for (const name of ['n1', 'n2']) await t.resources.create(resourceTypes.nodes, aNode(name));
    await t.resources.create(resourceTypes.pods, aPod('p1', { nodeName: 'n1' }));
    const recorder = desiredRecorder();
    await start(recorder);
    expect(recorder.published.map((m) => m.node).sort()).toEqual(['n1', 'n2']);
    expect(recorder.cleared).toEqual([]);

    await t.resources.delete(resourceTypes.nodes, undefined, 'n1');
    await settle();
    expect(clearedNodes(recorder)).toEqual(['n1:desired,presence', 'n1:desiredPolicies']);
    const sent = recorder.published.length;
    const parts = recorder.parts.length;
    await t.resources.delete(resourceTypes.pods, 'default', 'p1'); // the pod GC after a node deletion
    await settle();
    expect(recorder.published.slice(sent).map((m) => m.node)).not.toContain('n1');
    expect(recorder.parts.slice(parts).filter((p) => p.part === 'policies').map((p) => (p as { node: string }).node)).not.toContain('n1');
    expect(recorder.cleared.every((c) => c.node === 'n1')).toBe(true); // n2 untouched

    await t.resources.create(resourceTypes.nodes, aNode('n1'));
    await settle();
    expect(recorder.published.slice(sent).map((m) => m.node)).toContain('n1');
    expect(recorder.lastPart('policies', 'n1')).toBeDefined();
  });

  it('clears at start what the broker retains for names without a Node, and only those', async () => {
    t = await openTestResources();
    await t.resources.create(resourceTypes.nodes, aNode('n2'));
    const recorder = desiredRecorder();
    for (const name of ['n2', 'old-1', 'old-2']) recorder.retainedOnBroker.add(name);
    await start(recorder);
    expect(clearedNodes(recorder)).toEqual(['old-1:desired,presence', 'old-1:desiredPolicies', 'old-2:desired,presence', 'old-2:desiredPolicies']);
    expect(recorder.published.map((m) => m.node)).toEqual(['n2']);
  });

  it('never turns a hostile node name into a topic: clearing one reaches no channel call', async () => {
    t = await openTestResources();
    const recorder = desiredRecorder();
    const gone = new GoneNodes({ channel: recorder.channel, resources: t.resources, logger: pino({ level: 'silent' }) });
    for (const name of ['+', '#', 'n2/#', 'n2/desired', 'x'.repeat(300), '']) {
      gone.deleted(name);
      expect(await gone.clear(name, ['desired', 'desiredPolicies', 'presence'])).toBe(true); // nothing to publish either
    }
    gone.deleted('n3');
    expect(await gone.clear('n3', ['desired'])).toBe(true);
    expect(recorder.cleared).toEqual([{ node: 'n3', kinds: ['desired'] }]);
    // a Node of that name exists again: publish, not clear
    await t.resources.create(resourceTypes.nodes, aNode('n3'));
    expect(await gone.clear('n3', ['desired'])).toBe(false);
    expect(recorder.cleared).toHaveLength(1);
  });
});
