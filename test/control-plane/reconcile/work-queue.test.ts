import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../control-plane/reconcile/work-queue.js';
import { FakeClock } from '../../support/fake-clock.js';

const logger = pino({ level: 'silent' });

describe('WorkQueue', () => {
  it('deduplicates keys added before they are worked on', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue({
      name: 't', clock: new FakeClock(), logger, workers: 1,
      reconcile: async (k) => { seen.push(k); if (k === 'busy') await gate; },
    });
    q.add('busy');
    q.add('a'); q.add('a'); q.add('b'); q.add('a');
    release();
    await q.idle();
    expect(seen).toEqual(['busy', 'a', 'b']);
  });
  it('never runs one key twice at once, but runs it again if added meanwhile', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue({
      name: 't', clock: new FakeClock(), logger, workers: 4,
      reconcile: async () => {
        active++; runs++; maxActive = Math.max(maxActive, active);
        if (runs === 1) await gate;
        active--;
      },
    });
    q.add('k');
    await Promise.resolve();
    q.add('k');
    release();
    await q.idle();
    expect(runs).toBe(2);
    expect(maxActive).toBe(1);
  });
  it('retries failures with back-off on the clock, and honours requeueAfter', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const q = new WorkQueue({
      name: 't', clock, logger, baseRetryMs: 100,
      reconcile: async () => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return calls === 2 ? { requeueAfterMs: 5000 } : undefined;
      },
    });
    q.add('k');
    await q.idle();
    expect(calls).toBe(1);
    clock.advance(99);
    await q.idle();
    expect(calls).toBe(1);
    clock.advance(1);
    await q.idle();
    expect(calls).toBe(2);
    clock.advance(5000);
    await q.idle();
    expect(calls).toBe(3);
  });
});
