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
});
