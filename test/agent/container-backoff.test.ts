import { describe, expect, it } from 'vitest';
import { backOff, type BackoffContext } from '../../agent/pods/container-backoff.js';
import { ContainerSlot } from '../../agent/pods/container-slot.js';
import { LogBuffer } from '../../agent/log-buffer.js';
import type { ClockTimer } from '../../api/clock.js';
import { FakeClock } from '../support/fake-clock.js';

function setup(waiting: string) {
  const clock = new FakeClock();
  const events: string[] = [];
  const ctx: BackoffContext = {
    clock, pending: new Set<ClockTimer>(), podRef: 'p_default(u1)', report: () => undefined,
    onEvent: (type, reason, message) => events.push(`${type} ${reason}: ${message}`),
  };
  const slot = new ContainerSlot({ name: 'main', image: 'examples/hello:latest' }, false, () => new LogBuffer());
  slot.state = { waiting: { reason: waiting, message: 'why' } };
  slot.pullFailures = 1;
  return { clock, ctx, slot, events };
}

const settled = async (promise: Promise<void>) => Promise.race([promise.then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);

describe('back-off of a container that could not start', () => {
  it('waits on the clock after a pull error, with the kubelet\'s event, until cut short', async () => {
    const { clock, ctx, slot, events } = setup('ErrImagePull');
    const waited = backOff(slot, ctx);
    expect(await settled(waited)).toBe(false);
    expect(slot.state.waiting?.reason).toBe('ImagePullBackOff');
    expect(events).toEqual(['Normal BackOff: Back-off pulling image "examples/hello:latest"']);
    slot.retry();
    expect(await settled(waited)).toBe(true);
    expect(clock.now()).toBe(new FakeClock().now()); // no time passed
  });

  it('says nothing of images while it waits for a volume or its config', async () => {
    for (const reason of ['ContainerCreating', 'CreateContainerConfigError']) {
      const { ctx, slot, events } = setup(reason);
      const waited = backOff(slot, ctx);
      expect(await settled(waited)).toBe(false);
      expect(slot.state.waiting?.reason).toBe(reason);
      expect(events).toEqual([]);
      slot.retry();
      expect(await settled(waited)).toBe(true);
    }
  });

  it('skips a back-off asked to be cut short before it began (the awaited volume came first)', async () => {
    const { ctx, slot, events } = setup('ContainerCreating');
    slot.retry(); // a newer desired state arrives while the start attempt is still failing
    expect(await settled(backOff(slot, ctx))).toBe(true);
    expect(slot.retrySoon).toBe(false);
    expect(await settled(backOff(slot, ctx))).toBe(false); // only once
    expect(events).toEqual([]);
  });
});
