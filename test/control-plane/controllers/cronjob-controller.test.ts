// The CronJob controller over a real store on the injected clock: Jobs per scheduled time (time
// zones included), Allow/Forbid/Replace, suspend, startingDeadlineSeconds, history limits, status.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rfc3339 } from '../../../api/clock.js';
import { CronJobController } from '../../../control-plane/controllers/cronjob/cronjob-controller.js';
import type { CronJob, Job } from '../../../control-plane/controllers/workload-kinds.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import { parseSchedule, scheduledTimesBetween } from '../../../control-plane/resources/cron-schedule.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const logger = pino({ level: 'silent' });
const MIN = 60_000;

const aCronJob = (name: string, spec: Partial<CronJob['spec']> = {}): CronJob => ({
  apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name, namespace: 'default' },
  spec: {
    schedule: '* * * * *',
    jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'examples/hello:latest' }] } } } },
    ...spec,
  },
});

describe('CronJob controller', () => {
  let t: TestResources;
  let controller: CronJobController;
  let events: EventRecorder;
  beforeEach(async () => {
    t = await openTestResources();
    events = new EventRecorder(t.resources, t.clock, logger);
    controller = new CronJobController({ resources: t.resources, events, clock: t.clock, logger });
    controller.start();
  });
  afterEach(async () => {
    controller.stop();
    await t.close();
  });

  const jobs = async () => (await t.resources.list<Job>(resourceTypes.jobs, { namespace: 'default' })).items.map((j) => j.metadata.name!).sort();
  const cronJob = (name: string) => t.resources.get<CronJob>(resourceTypes.cronjobs, 'default', name);
  /** Moves the clock on and lets every reconcile it caused run. */
  const advance = async (ms: number) => {
    await controller.idle();
    t.clock.advance(ms);
    await controller.idle();
  };
  const finish = async (name: string, type: 'Complete' | 'Failed') => {
    await t.resources.mutate<Job>(resourceTypes.jobs, 'default', name, (j) => ({
      ...j, status: { ...j.status, ...(type === 'Complete' ? { succeeded: 1, completionTime: rfc3339(t.clock.now()) } : { failed: 1 }), conditions: [{ type, status: 'True' }] },
    }), { subresource: 'status' });
    await controller.idle();
  };
  const minuteOf = (ms: number) => Math.floor(ms / MIN);

  it('starts one Job per scheduled minute, named by the minute, with the scheduled time and status', async () => {
    const t0 = t.clock.now();
    await t.resources.create(resourceTypes.cronjobs, aCronJob('tick'));
    await advance(30_000);
    expect(await jobs()).toEqual([]);
    await advance(30_000);
    expect(await jobs()).toEqual([`tick-${minuteOf(t0) + 1}`]);
    const job = await t.resources.get<Job>(resourceTypes.jobs, 'default', `tick-${minuteOf(t0) + 1}`);
    expect(job.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(rfc3339(t0 + MIN));
    expect(job.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'tick', controller: true });
    let cj = await cronJob('tick');
    expect(cj.status).toEqual({ lastScheduleTime: rfc3339(t0 + MIN), active: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, namespace: 'default', uid: job.metadata.uid }] });
    await finish(job.metadata.name!, 'Complete');
    cj = await cronJob('tick');
    expect(cj.status?.active).toBeUndefined();
    expect(cj.status?.lastSuccessfulTime).toBe(rfc3339(t.clock.now()));
    await advance(MIN); // Allow: the next one starts regardless
    expect(await jobs()).toHaveLength(2);
  });

  it('keeps successfulJobsHistoryLimit and failedJobsHistoryLimit finished Jobs', async () => {
    await t.resources.create(resourceTypes.cronjobs, aCronJob('hist', { successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }));
    const started: string[] = [];
    for (let i = 0; i < 4; i++) {
      await advance(MIN);
      const name = (await jobs()).find((n) => !started.includes(n))!;
      started.push(name);
      await finish(name, i % 2 ? 'Failed' : 'Complete');
    }
    expect(await jobs()).toEqual([started[2], started[3]].sort());
  });

  it('Forbid waits for the active Job and then starts the latest missed time; Replace swaps the active Job', async () => {
    await t.resources.create(resourceTypes.cronjobs, aCronJob('forbid', { concurrencyPolicy: 'Forbid' }));
    await advance(MIN);
    const [first] = await jobs();
    await advance(3 * MIN);
    expect(await jobs()).toEqual([first]);
    await finish(first!, 'Complete');
    const after = await jobs();
    expect(after).toEqual([first, `forbid-${minuteOf(t.clock.now())}`].sort());

    await t.resources.create(resourceTypes.cronjobs, aCronJob('replace', { concurrencyPolicy: 'Replace' }));
    await advance(MIN);
    const one = (await jobs()).filter((n) => n.startsWith('replace-'));
    await advance(MIN);
    const two = (await jobs()).filter((n) => n.startsWith('replace-'));
    expect(two).toHaveLength(1);
    expect(two).not.toEqual(one);
    expect((await cronJob('replace')).status?.active?.map((r) => r.name)).toEqual(two);
  });

  it('starts nothing while suspended, and nothing later than startingDeadlineSeconds', async () => {
    await t.resources.create(resourceTypes.cronjobs, aCronJob('late', { suspend: true, startingDeadlineSeconds: 10 }));
    await advance(MIN + 30_000);
    expect(await jobs()).toEqual([]);
    await t.resources.mutate<CronJob>(resourceTypes.cronjobs, 'default', 'late', (c) => ({ ...c, spec: { ...c.spec, suspend: false } }));
    await advance(0);
    expect(await jobs()).toEqual([]); // the minute passed 30 s ago, beyond the 10 s deadline
    await advance(30_000);
    expect(await jobs()).toEqual([`late-${minuteOf(t.clock.now())}`]);
  });

  it('reads the schedule in spec.timeZone', async () => {
    const t0 = t.clock.now(); // 2026-01-01T00:00:00Z, 01:00 in Berlin
    await t.resources.create(resourceTypes.cronjobs, aCronJob('berlin', { schedule: '30 2 * * *', timeZone: 'Europe/Berlin' }));
    await advance(90 * MIN - 1000);
    expect(await jobs()).toEqual([]);
    await advance(1000);
    expect(await jobs()).toEqual([`berlin-${minuteOf(t0 + 90 * MIN)}`]);
  });
});

describe('cron schedules', () => {
  it('parses what Kubernetes parses and words what it refuses', () => {
    expect(typeof parseSchedule('*/5 * * * *')).toBe('object');
    expect(typeof parseSchedule('@hourly')).toBe('object');
    expect(parseSchedule('* * * * * *')).toBe('expected exactly 5 fields, found 6: [* * * * * *]');
    expect(parseSchedule('TZ=UTC * * * * *')).toBe('cannot use TZ or CRON_TZ in schedule, use timeZone field instead');
    expect(parseSchedule('@every 1m')).toBe('unrecognized descriptor: @every 1m');
    expect(typeof parseSchedule('61 * * * *')).toBe('string');
    expect(parseSchedule('* * * * *', 'Nowhere/Land')).toBe('unknown time zone Nowhere/Land');
  });

  it('finds the latest time in a window and counts missed ones up to 101', () => {
    const every5 = parseSchedule('*/5 * * * *');
    if (typeof every5 === 'string') throw new Error(every5);
    const t0 = Date.UTC(2026, 0, 1);
    expect(scheduledTimesBetween(every5, t0, t0 + 4 * MIN)).toEqual({ count: 0 });
    expect(scheduledTimesBetween(every5, t0, t0 + 12 * MIN)).toEqual({ mostRecentMs: t0 + 10 * MIN, count: 2 });
    expect(scheduledTimesBetween(every5, t0, t0 + 365 * 24 * 60 * MIN).count).toBe(101);
  });

  it('answers 3000 seeded hostile schedules and zones with a schedule or a reason, never a throw', () => {
    const next = seededRandom(20_261_206);
    const fields = ['*', '*/0', '*/1', '0-59', '5-1', '1,2,,3', 'L', 'W', '?', '#', 'JAN', 'MON-FRI', '99999999999', '-1', '1/0', '*/999'];
    for (let i = 0; i < 3000; i++) {
      const pick = () => (next() < 0.3 ? hostileString(next, 4) : fields[Math.floor(next() * fields.length)]!);
      const schedule = next() < 0.2 ? hostileString(next) : Array.from({ length: 1 + Math.floor(next() * 6) }, pick).join(' ');
      const zone = next() < 0.5 ? 'UTC' : hostileString(next, 3);
      const parsed = parseSchedule(schedule, zone);
      if (typeof parsed === 'string') continue;
      const at = parsed.next(Date.UTC(2026, 0, 1));
      expect(Number.isFinite(at)).toBe(true);
    }
  });
});
