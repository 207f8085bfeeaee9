import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../control-plane/reconcile/work-queue.js';
import { FakeClock } from '../../support/fake-clock.js';

const logger = pino({ level: 'silent' });

describe('WorkQueue.addAtMostEvery', () => {
  it('queues a quiet key at once, and a burst once per interval from the last start', async () => {
    const clock = new FakeClock();
    let runs = 0;
    const q = new WorkQueue({ name: 't', clock, logger, workers: 1, reconcile: async () => { runs++; } });
    q.addAtMostEvery('rs', 100);
    await q.idle();
    expect(runs).toBe(1);
    for (let i = 0; i < 1000; i++) q.addAtMostEvery('rs', 100); // a burst of child events
    await q.idle();
    expect(runs).toBe(1);
    clock.advance(99);
    await q.idle();
    expect(runs).toBe(1);
    clock.advance(1);
    await q.idle();
    expect(runs).toBe(2);
    clock.advance(500); // quiet again: at once
    q.addAtMostEvery('rs', 100);
    await q.idle();
    expect(runs).toBe(3);
  });

  it('with no interval, queues at every event as add() does', async () => {
    let runs = 0;
    const q = new WorkQueue({ name: 't', clock: new FakeClock(), logger, workers: 1, reconcile: async () => { runs++; } });
    q.addAtMostEvery('rs', 0);
    await q.idle();
    q.addAtMostEvery('rs', 0);
    await q.idle();
    expect(runs).toBe(2);
  });

  it('cancels held-back keys on stop', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ name: 't', clock, logger, workers: 1, reconcile: async () => undefined });
    q.add('rs');
    q.addAtMostEvery('rs', 100);
    q.stop();
    expect(clock.pendingTimers).toBe(0);
  });
});
