import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Event } from '../../../api/types/node.js';
import { EventRecorder, type EventInput } from '../../../control-plane/events/event-recorder.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const logger = pino({ level: 'silent' });
const failed = (message: string): EventInput => ({
  involvedObject: { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: 'u-1' },
  type: 'Warning', reason: 'ProvisioningFailed', message, component: 'persistentvolume-controller',
});

describe('event recorder', () => {
  let t: TestResources;
  let recorder: EventRecorder;
  beforeEach(async () => {
    t = await openTestResources();
    recorder = new EventRecorder(t.resources, t.clock, logger);
  });
  afterEach(async () => {
    await t.close();
  });
  const events = async () => (await t.resources.list<Event>(resourceTypes.events, { namespace: 'default' })).items;

  it('folds repeats recorded at once into one Event with a count, as the real recorder does', async () => {
    for (let i = 0; i < 5; i++) recorder.record(failed('class "fast" not found'));
    await recorder.settled();
    const written = await events();
    expect(written.map((e) => [e.message, e.count])).toEqual([['class "fast" not found', 5]]);
  });

  it('keeps different messages apart and folds a later repeat within the window', async () => {
    recorder.record(failed('one'));
    recorder.record(failed('two'));
    await recorder.settled();
    t.clock.advance(60_000);
    recorder.record(failed('one'));
    await recorder.settled();
    const byMessage = Object.fromEntries((await events()).map((e) => [e.message, e.count]));
    expect(byMessage).toEqual({ one: 2, two: 1 });
  });

  it('drops what a source says about one object past a burst of 25, then allows one per 5 minutes (kube\'s spam filter)', async () => {
    const created = (i: number): EventInput => ({
      involvedObject: { kind: 'ReplicaSet', apiVersion: 'apps/v1', namespace: 'default', name: 'web', uid: 'rs-1' },
      type: 'Normal', reason: 'SuccessfulCreate', message: `Created pod: web-${i}`, component: 'replicaset-controller',
    });
    for (let i = 0; i < 100; i++) recorder.record(created(i));
    // another object, and another source about the same object, have their own buckets
    recorder.record({ ...created(0), involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-0', uid: 'p-0' }, reason: 'Scheduled', component: 'default-scheduler' });
    recorder.record({ ...created(100), component: 'other-controller' });
    await recorder.settled();
    const written = await events();
    expect(written.filter((e) => e.reason === 'SuccessfulCreate' && e.source?.component === 'replicaset-controller')).toHaveLength(25);
    expect(written.filter((e) => e.source?.component !== 'replicaset-controller')).toHaveLength(2);
    t.clock.advance(299_000);
    recorder.record(created(200));
    await recorder.settled();
    expect(await events()).toHaveLength(27);
    t.clock.advance(1_000);
    recorder.record(created(201));
    recorder.record(created(202));
    await recorder.settled();
    expect((await events()).map((e) => e.message)).toContain('Created pod: web-201');
    expect(await events()).toHaveLength(28);
  });
});
