// NodeRestriction for what agents report: a node's events and pod status reports are accepted only for
// pods bound to it (and, for events, its own Node); forged ones are logged, counted and dropped.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type EventMessage, type PodStatusMessage } from '../../../api/mqtt/messages.js';
import type { Event } from '../../../api/types/node.js';
import type { Pod } from '../../../api/types/pod.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import { PodStatusSink } from '../../../control-plane/nodes/pod-status-sink.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

const envelope = { v: PROTOCOL_VERSION, sessionId: 's', seq: 1, ts: 1 } as const;
const event = (involvedObject: EventMessage['involvedObject'], reason: string): EventMessage =>
  ({ ...envelope, involvedObject, type: 'Warning', reason, message: `${reason} happened` });
const status = (pod: Pod, phase: 'Running' | 'Failed'): PodStatusMessage =>
  ({ ...envelope, uid: pod.metadata.uid!, name: pod.metadata.name!, namespace: 'default', removed: false, status: { phase } });

describe('pod status sink', () => {
  let t: TestResources;
  let sink: PodStatusSink;
  let mine: Pod;
  let theirs: Pod;

  const storedEvents = async () => (await t.resources.list<Event>(resourceTypes.events)).items.map((e) => e.reason);
  const eventually = async (check: () => Promise<boolean>) => {
    for (const deadline = Date.now() + 5000; !(await check());) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setImmediate(r));
    }
  };

  beforeEach(async () => {
    t = await openTestResources();
    const logger = pino({ level: 'silent' });
    sink = new PodStatusSink(t.resources, new EventRecorder(t.resources, t.clock, logger), logger);
    mine = await t.resources.create(resourceTypes.pods, aPod('mine', { nodeName: 'node-1' }));
    theirs = await t.resources.create(resourceTypes.pods, aPod('theirs', { nodeName: 'node-2' }));
  });
  afterEach(async () => t.close());

  it('records events about the node\'s own pods and its own Node', async () => {
    expect(await sink.event('node-1', event({ kind: 'Pod', name: 'mine', namespace: 'default', uid: mine.metadata.uid! }, 'BackOff'))).toBe('applied');
    expect(await sink.event('node-1', event({ kind: 'Node', name: 'node-1' }, 'NodeLow'))).toBe('applied');
    await eventually(async () => (await storedEvents()).length === 2);
    expect((await storedEvents()).sort()).toEqual(['BackOff', 'NodeLow']);
  });

  it('drops events about other nodes\' pods, other Nodes, unknown pods and other kinds', async () => {
    const forged: EventMessage['involvedObject'][] = [
      { kind: 'Pod', name: 'theirs', namespace: 'default' },
      { kind: 'Pod', name: 'theirs', namespace: 'default', uid: theirs.metadata.uid! },
      { kind: 'Pod', name: 'mine', namespace: 'default', uid: 'another-uid' },
      { kind: 'Pod', name: 'nowhere', namespace: 'default' },
      { kind: 'Pod', name: 'mine' },
      { kind: 'Node', name: 'node-2' },
      { kind: 'Secret', name: 'mine', namespace: 'default' },
      { kind: 'Namespace', name: 'default' },
    ];
    for (const ref of forged) expect(await sink.event('node-1', event(ref, 'Forged')), JSON.stringify(ref)).toBe('dropped');
    expect(sink.droppedReports).toBe(forged.length);
    // a genuine event recorded after them shows the forged ones were not merely slow
    await sink.event('node-1', event({ kind: 'Pod', name: 'mine', namespace: 'default' }, 'Genuine'));
    await eventually(async () => (await storedEvents()).includes('Genuine'));
    expect(await storedEvents()).toEqual(['Genuine']);
  });

  it('applies status reports for the node\'s own pods only', async () => {
    expect(await sink.podStatus('node-1', status(mine, 'Running'))).toBe('applied');
    expect(await sink.podStatus('node-1', status(theirs, 'Failed'))).toBe('dropped');
    expect(await sink.podStatus('node-1', { ...status(mine, 'Failed'), uid: 'another-uid' })).toBe('dropped');
    expect((await t.resources.get<Pod>(resourceTypes.pods, 'default', 'mine')).status?.phase).toBe('Running');
    expect((await t.resources.get<Pod>(resourceTypes.pods, 'default', 'theirs')).status?.phase).toBe('Pending');
    expect(sink.droppedReports).toBe(2);
  });

  it('does not let a node remove another node\'s pod', async () => {
    await t.resources.delete(resourceTypes.pods, 'default', 'theirs', { gracePeriodSeconds: 30 });
    expect(await sink.podStatus('node-1', { ...status(theirs, 'Running'), removed: true })).toBe('dropped');
    expect((await t.resources.get<Pod>(resourceTypes.pods, 'default', 'theirs')).metadata.deletionTimestamp).toBeDefined();
    expect(await sink.podStatus('node-2', { ...status(theirs, 'Running'), removed: true })).toBe('applied');
    await expect(t.resources.get(resourceTypes.pods, 'default', 'theirs')).rejects.toThrow(/not found/);
  });
});
