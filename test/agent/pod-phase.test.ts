import { describe, expect, it } from 'vitest';
import { podConditions, podPhase, restartDelayMs, shouldRestart, type SlotView } from '../../agent/pods/pod-phase.js';

const running: SlotView = { state: { running: { startedAt: 'x' } }, finished: false, ready: true };
const exited = (exitCode: number, finished = true): SlotView => ({ state: { terminated: { exitCode } }, finished, ready: false });
const creating: SlotView = { state: { waiting: { reason: 'ContainerCreating' } }, finished: false, ready: false };

describe('pod phase', () => {
  it('is Pending until every container has been created', () => {
    expect(podPhase([], [running, creating])).toBe('Pending');
  });
  it('is Running while any container runs or waits to restart', () => {
    expect(podPhase([], [running, exited(0)])).toBe('Running');
    expect(podPhase([], [{ state: { waiting: { reason: 'CrashLoopBackOff' } }, finished: false, ready: false }])).toBe('Running');
  });
  it('is Succeeded when every container finished with 0 and Failed when one failed', () => {
    expect(podPhase([], [exited(0), exited(0)])).toBe('Succeeded');
    expect(podPhase([], [exited(0), exited(3)])).toBe('Failed');
  });
  it('stays Pending while init containers run, and fails when one fails for good', () => {
    expect(podPhase([running], [creating])).toBe('Pending');
    expect(podPhase([exited(0)], [running])).toBe('Running');
    expect(podPhase([exited(1)], [creating])).toBe('Failed');
  });
  it('restarts by policy', () => {
    expect(shouldRestart('Always', 0)).toBe(true);
    expect(shouldRestart('OnFailure', 0)).toBe(false);
    expect(shouldRestart('OnFailure', 2)).toBe(true);
    expect(shouldRestart('Never', 2)).toBe(false);
  });
  it('backs off 0, 10 s, 20 s ... up to 5 minutes', () => {
    expect([0, 1, 2, 3, 6, 9].map((n) => restartDelayMs(n))).toEqual([0, 10_000, 20_000, 40_000, 300_000, 300_000]);
  });
  it('reports Ready only when every container is ready, PodCompleted when all are done', () => {
    const ready = podConditions([], [running], 't1');
    expect(ready.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    const done = podConditions([], [exited(0)], 't2', ready);
    expect(done.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted', lastTransitionTime: 't2' });
    expect(done.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'True', lastTransitionTime: 't1' });
  });
});
