// One Scheduler over a throwaway store with a fake clock, for the scheduler's tests: counts its tries
// and attempts, and waits for conditions (the scheduler idle between looks, never a sleep). Pods no
// node fits wait out a back-off (1-10 s) on the fake clock: `pastBackoff()` moves time past it.
import pino from 'pino';
import type { Pod } from '../../../api/types/pod.js';
import type { Event } from '../../../api/types/node.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { Scheduler, type ScheduleResult } from '../../../control-plane/scheduler/scheduler.js';
import { MAX_BACKOFF_MS } from '../../../control-plane/scheduler/scheduling-queue.js';
import { openTestResources, type TestResources } from './test-resources.js';

const logger = pino({ level: 'silent' });

export interface SchedulerHarness {
  t: TestResources;
  scheduler: Scheduler;
  /** Keys the scheduler's queue has started trying (placements, and addresses to assign). */
  readonly tries: number;
  /** Placement attempts by how they ended. */
  readonly attempts: Readonly<Record<ScheduleResult, number>>;
  /** Resolves with the first truthy value `get` gives, looking again whenever the scheduler is idle. */
  until<T>(what: string, get: () => Promise<T | undefined | null | false>): Promise<T>;
  pod(name: string, namespace?: string): Promise<Pod>;
  /** The pod's node, or undefined once it is found unschedulable (unless `bound`: wait for a node). */
  nodeOf(name: string, bound?: boolean): Promise<string | undefined>;
  isUnschedulable(name: string): Promise<boolean>;
  /** FailedScheduling messages of the pod (namespace default). */
  failures(name: string): Promise<string[]>;
  /** Moves the fake clock past the longest back-off (10 s), running the queue's timers. */
  pastBackoff(): Promise<void>;
  stop(): Promise<void>;
}

/** Opens a store, runs `setup` on it, then starts a Scheduler. */
export async function startSchedulerHarness(setup?: (t: TestResources) => Promise<void>): Promise<SchedulerHarness> {
  const t = await openTestResources();
  await setup?.(t);
  let tries = 0;
  const attempts: Record<ScheduleResult, number> = { scheduled: 0, unschedulable: 0, error: 0 };
  const queueObserver = { added: () => undefined, depth: () => undefined, started: () => { tries++; }, finished: () => undefined };
  const observer = { attempt: (result: ScheduleResult) => { attempts[result]++; }, unschedulablePods: () => undefined };
  const scheduler = new Scheduler({ resources: t.resources, events: new EventRecorder(t.resources, t.clock, logger), clock: t.clock, logger, observer, queueObserver });
  scheduler.start();
  const pod = (name: string, namespace = 'default') => t.resources.get<Pod>(resourceTypes.pods, namespace, name);
  const podScheduled = async (name: string) => (await pod(name)).status?.conditions?.find((c) => c.type === 'PodScheduled');
  const h: SchedulerHarness = {
    t, scheduler, attempts,
    get tries() { return tries; },
    async until(what, get) {
      for (let i = 0; i < 500; i++) {
        await scheduler.idle();
        const value = await get();
        if (value) return value;
        await new Promise((r) => setImmediate(r));
      }
      throw new Error(`never happened: ${what}`);
    },
    pod,
    async nodeOf(name, bound = false) {
      const found = await h.until(`${name} bound${bound ? '' : ' or unschedulable'}`, async () => {
        const p = await pod(name);
        if (p.spec.nodeName) return { node: p.spec.nodeName };
        return !bound && (await podScheduled(name))?.reason === 'Unschedulable' ? { node: undefined } : undefined;
      });
      return found.node;
    },
    isUnschedulable: async (name) => (await podScheduled(name))?.reason === 'Unschedulable',
    failures: async (name) => (await t.resources.list<Event>(resourceTypes.events, { namespace: 'default' })).items
      .filter((e) => e.involvedObject.name === name && e.reason === 'FailedScheduling').map((e) => e.message!),
    async pastBackoff() {
      await scheduler.idle();
      t.clock.advance(MAX_BACKOFF_MS);
      await scheduler.idle();
    },
    async stop() {
      scheduler.stop();
      await t.close();
    },
  };
  return h;
}
