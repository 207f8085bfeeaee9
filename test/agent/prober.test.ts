import { describe, expect, it } from 'vitest';
import { Prober, type ProbeOutcome, type ProbeSpec } from '../../agent/pods/prober.js';
import { FakeClock } from '../support/fake-clock.js';

/** A prober whose attempts answer from a script; `flush` lets settled attempts be recorded. */
function setup(spec: ProbeSpec, kind: 'Startup' | 'Liveness' | 'Readiness' = 'Readiness', timeoutMessage?: string) {
  const clock = new FakeClock();
  const answers: Array<ProbeOutcome | 'hang'> = [];
  const attemptsAt: number[] = [];
  const results: boolean[] = [];
  const failures: string[] = [];
  const errored: boolean[] = [];
  const aborted: string[] = [];
  const prober = new Prober(kind, spec, (signal) => {
    attemptsAt.push(clock.now());
    const next = answers.shift() ?? { ok: true };
    if (next !== 'hang') return Promise.resolve(next);
    return new Promise((resolve) => signal.addEventListener('abort', () => {
      aborted.push(String(signal.reason));
      resolve({ ok: false, message: 'aborted' });
    }));
  }, clock, { onResult: (ok) => results.push(ok), onAttemptFailed: (m, e) => { failures.push(m); errored.push(e); } }, timeoutMessage);
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  const advance = async (ms: number) => {
    for (let step = 0; step < ms; step += 100) {
      clock.advance(Math.min(100, ms - step));
      await flush();
    }
  };
  return { clock, prober, answers, attemptsAt, results, failures, errored, aborted, advance, start: clock.now() };
}

const fail = (message = 'no'): ProbeOutcome => ({ ok: false, message });

describe('a probe', () => {
  it('makes its first attempt after initialDelaySeconds, then one every periodSeconds', async () => {
    const t = setup({ exec: { command: ['x'] }, initialDelaySeconds: 5, periodSeconds: 2 });
    t.prober.start();
    await t.advance(4900);
    expect(t.attemptsAt).toEqual([]);
    await t.advance(4100);
    expect(t.attemptsAt.map((at) => at - t.start)).toEqual([5000, 7000, 9000]);
    t.prober.stop();
  });

  it('flips to failure only after failureThreshold consecutive failures, reporting each failed attempt', async () => {
    const t = setup({ exec: { command: ['x'] }, periodSeconds: 1, failureThreshold: 3 });
    t.answers.push({ ok: true }, fail('a'), fail('b'), { ok: true }, fail('c'), fail('d'), fail('e'));
    t.prober.start();
    await t.advance(100);
    expect(t.results).toEqual([true]);
    await t.advance(5000);
    expect(t.results).toEqual([true]);
    expect(t.failures).toEqual(['a', 'b', 'c', 'd']);
    await t.advance(1000);
    expect(t.results).toEqual([true, false]);
    t.prober.stop();
  });

  it('needs successThreshold consecutive successes to become ready again', async () => {
    const t = setup({ exec: { command: ['x'] }, periodSeconds: 1, failureThreshold: 1, successThreshold: 2 });
    t.answers.push(fail(), { ok: true }, fail(), { ok: true }, { ok: true });
    t.prober.start();
    await t.advance(100);
    expect(t.results).toEqual([false]);
    await t.advance(3000);
    expect(t.results).toEqual([false]);
    await t.advance(1000);
    expect(t.results).toEqual([false, true]);
    t.prober.stop();
  });

  it('treats successThreshold as 1 for liveness probes', async () => {
    const t = setup({ exec: { command: ['x'] }, successThreshold: 5 }, 'Liveness');
    t.prober.start();
    await t.advance(100);
    expect(t.results).toEqual([true]);
    t.prober.stop();
  });

  it('fails an attempt that outlives timeoutSeconds and aborts it', async () => {
    const t = setup({ exec: { command: ['x'] }, timeoutSeconds: 2, periodSeconds: 10, failureThreshold: 1 });
    t.answers.push('hang');
    t.prober.start();
    await t.advance(1900);
    expect(t.failures).toEqual([]);
    await t.advance(200);
    expect(t.failures).toEqual(['probe timed out after 2s']);
    expect(t.aborted).toHaveLength(1);
    expect(t.results).toEqual([false]);
    t.prober.stop();
  });

  it('reports a timed-out attempt with the handler\'s own message when it has one', async () => {
    const t = setup({ httpGet: { port: 80 }, timeoutSeconds: 1, failureThreshold: 1 }, 'Readiness', 'Get "http://10.0.0.1:80/": context deadline exceeded');
    t.answers.push('hang');
    t.prober.start();
    await t.advance(1100);
    expect(t.failures).toEqual(['Get "http://10.0.0.1:80/": context deadline exceeded']);
    t.prober.stop();
  });

  it('tells attempts that could not be run (errored) from failed ones', async () => {
    const t = setup({ httpGet: { port: 'web' }, periodSeconds: 1 });
    t.answers.push({ ok: false, errored: true, message: 'port web not found' }, fail('HTTP probe failed with statuscode: 500'));
    t.prober.start();
    await t.advance(1100);
    expect(t.failures).toEqual(['port web not found', 'HTTP probe failed with statuscode: 500']);
    expect(t.errored).toEqual([true, false]);
    t.prober.stop();
  });

  it('makes no attempt once stopped', async () => {
    const t = setup({ exec: { command: ['x'] }, periodSeconds: 1 });
    t.prober.start();
    await t.advance(1500);
    t.prober.stop();
    const before = t.attemptsAt.length;
    await t.advance(5000);
    expect(t.attemptsAt.length).toBe(before);
  });
});
