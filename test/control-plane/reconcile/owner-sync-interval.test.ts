import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { COST_FACTOR, MAX_COST_INTERVAL_MS, WorkQueue } from '../../../control-plane/reconcile/work-queue.js';
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

describe('WorkQueue.addAtMostEvery with a reported cost', () => {
  it('stretches the interval of a costly key to COST_FACTOR times its cost, capped, and back when it is cheap', async () => {
    const clock = new FakeClock();
    let runs = 0;
    let costMs = 50;
    const q = new WorkQueue({ name: 't', clock, logger, workers: 1, reconcile: async () => { runs++; return { costMs }; } });
    q.addAtMostEvery('rs', 100);
    await q.idle();
    expect(runs).toBe(1);
    q.addAtMostEvery('rs', 100);
    clock.advance(COST_FACTOR * 50 - 1); // 100 ms would have run it again by now
    await q.idle();
    expect(runs).toBe(1);
    clock.advance(1);
    await q.idle();
    expect(runs).toBe(2);
    costMs = 1_000_000; // however costly, at least every MAX_COST_INTERVAL_MS
    q.addAtMostEvery('other', 100); // a key's cost is its own
    await q.idle();
    expect(runs).toBe(3);
    q.addAtMostEvery('rs', 100);
    clock.advance(COST_FACTOR * 50);
    await q.idle();
    expect(runs).toBe(4); // rs ran with cost 50; now it reported 1,000,000
    q.addAtMostEvery('rs', 100);
    clock.advance(MAX_COST_INTERVAL_MS - 1);
    await q.idle();
    expect(runs).toBe(4);
    clock.advance(1);
    await q.idle();
    expect(runs).toBe(5);
    costMs = 0;
    q.addAtMostEvery('rs', 100); // its last run still reported the large cost
    clock.advance(MAX_COST_INTERVAL_MS);
    await q.idle();
    expect(runs).toBe(6);
    q.addAtMostEvery('rs', 100); // cheap now: the base interval
    clock.advance(100);
    await q.idle();
    expect(runs).toBe(7);
  });

  it('a cost does not hold back add() or an interval of 0', async () => {
    const clock = new FakeClock();
    let runs = 0;
    const q = new WorkQueue({ name: 't', clock, logger, workers: 1, reconcile: async () => { runs++; return { costMs: 1000 }; } });
    q.add('rs');
    await q.idle();
    q.add('rs');
    await q.idle();
    q.addAtMostEvery('rs', 0);
    await q.idle();
    expect(runs).toBe(3);
  });
});
