import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { POD_IP_ANNOTATION } from '../../../api/pod-addresses.js';
import { NodeAggregates } from '../../../control-plane/scheduler/node-aggregates.js';
import { usageByNode } from '../../../control-plane/scheduler/node-fit.js';
import { feasibleNodesToFind, placePod } from '../../../control-plane/scheduler/placement.js';
import { podsHoldingNodes } from '../../../control-plane/scheduler/preemption.js';
import { SchedulingQueue } from '../../../control-plane/scheduler/scheduling-queue.js';
import { aNode, aPod } from '../../support/builders.js';
import { FakeClock } from '../../support/fake-clock.js';
import { seededRandom } from '../../support/seeded-random.js';

const logger = pino({ level: 'silent' });

describe('the scheduling queue', () => {
  it('tries higher priorities first, then in the order pods were queued', async () => {
    const priorities: Record<string, number> = { low: 0, high: 1000, mid: 10, mid2: 10, first: 5 };
    const tried: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const queue = new SchedulingQueue({
      name: 'test', clock: new FakeClock(), logger, priorityOf: (k) => priorities[k] ?? 0,
      process: async (k) => { tried.push(k); if (k === 'first') await gate; },
    });
    queue.add('first'); // in flight while the others queue up
    for (const k of ['low', 'mid', 'high', 'mid2']) queue.add(k);
    queue.add('low'); // deduplicated
    release();
    await queue.idle();
    expect(tried).toEqual(['first', 'high', 'mid', 'mid2', 'low']);
  });

  it('backs a failing pod off exponentially on the clock, and tries it again once the time is up', async () => {
    const clock = new FakeClock();
    let failures = 2;
    const tried: string[] = [];
    const queue = new SchedulingQueue({
      name: 'test', clock, logger, priorityOf: () => 0, initialBackoffMs: 100,
      process: (k) => { tried.push(k); return failures-- > 0 ? Promise.reject(new Error('conflict')) : Promise.resolve(); },
    });
    queue.add('p');
    await queue.idle();
    expect(tried).toEqual(['p']);
    queue.add('p'); // in back-off: waits for its timer
    expect(queue.depth).toBe(1);
    clock.advance(99);
    await queue.idle();
    expect(tried).toHaveLength(1);
    clock.advance(1);
    await queue.idle();
    expect(tried).toHaveLength(2);
    clock.advance(199);
    await queue.idle();
    expect(tried).toHaveLength(2); // the second back-off is twice as long
    clock.advance(1);
    await queue.idle();
    expect(tried).toHaveLength(3);
    expect(queue.depth).toBe(0);
  });

  it('pops a 100,000-pod backlog in priority order', async () => {
    const next = seededRandom(13);
    const prio = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) prio.set(`p${i}`, Math.floor(next() * 5));
    let last = Infinity;
    let ordered = true;
    const queue = new SchedulingQueue({
      name: 'test', clock: new FakeClock(), logger, priorityOf: (k) => prio.get(k)!,
      process: async (k) => { const p = prio.get(k)!; if (p > last) ordered = false; last = p; },
    });
    let hold!: () => void;
    const gate = new Promise<void>((r) => { hold = r; });
    const blocker = new SchedulingQueue({ name: 'x', clock: new FakeClock(), logger, priorityOf: () => 0, process: () => gate });
    blocker.add('x');
    queue.add('start'); // runs at once, before the backlog exists
    await queue.idle();
    last = Infinity;
    for (const k of prio.keys()) queue.add(k);
    hold();
    await queue.idle();
    expect(ordered).toBe(true);
  });
});

describe('back-off and unschedulable pods (kube\'s activeQ, backoffQ, unschedulablePods)', () => {
  /** A queue whose every try finds no node, on a fake clock; `tried` lists the clock times of its tries. */
  function unschedulableQueue() {
    const clock = new FakeClock();
    const start = clock.now();
    const tried: number[] = [];
    let onTry: () => void = () => undefined;
    const queue = new SchedulingQueue({
      name: 'test', clock, logger, priorityOf: () => 0,
      process: async () => { tried.push(clock.now() - start); onTry(); return 'unschedulable'; },
    });
    return { clock, queue, tried, setOnTry: (f: () => void) => { onTry = f; } };
  }

  it('backs a pod off 1 s, doubling per attempt, at most 10 s, each time an event moves it', async () => {
    const { clock, queue, tried } = unschedulableQueue();
    queue.add('p');
    await queue.idle();
    expect(tried).toEqual([0]);
    expect(queue.unschedulableCount).toBe(1);
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      const triedAt = tried.at(-1)!;
      expect(queue.moveUnschedulable()).toBe(1); // an event that may help: it still waits out its back-off
      expect(queue.backingOffCount).toBe(1);
      let waited = 0;
      while (tried.length === attempt) {
        clock.advance(100);
        waited += 100;
        await queue.idle();
        if (waited > 60_000) throw new Error('never tried again');
      }
      waits.push(tried.at(-1)! - triedAt);
      expect(queue.attemptsOf('p')).toBe(attempt + 1);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('leaves a pod parked on events that do not help, and tries one that helps at once once its back-off is over', async () => {
    const { clock, queue, tried } = unschedulableQueue();
    queue.add('p');
    await queue.idle();
    clock.advance(60_000); // long past its back-off
    expect(queue.moveUnschedulable(() => false)).toBe(0);
    await queue.idle();
    clock.advance(60_000);
    await queue.idle();
    expect(tried).toHaveLength(1);
    expect(queue.unschedulableCount).toBe(1);
    expect(queue.moveUnschedulable((key) => key === 'p')).toBe(1);
    await queue.idle();
    expect(tried).toEqual([0, 120_000]); // at once: no clock moved
  });

  it('tries a pod parked for 5 minutes again with no event', async () => {
    const { clock, queue, tried } = unschedulableQueue();
    queue.add('p');
    await queue.idle();
    clock.advance(299_999);
    await queue.idle();
    expect(tried).toHaveLength(1);
    clock.advance(1);
    await queue.idle();
    expect(tried).toEqual([0, 300_000]);
  });

  it('backs off, not parks, a pod that an event may have helped while it was being tried', async () => {
    const { clock, queue, tried, setOnTry } = unschedulableQueue();
    setOnTry(() => queue.moveUnschedulable());
    queue.add('p');
    await queue.idle();
    expect(queue.unschedulableCount).toBe(0);
    expect(queue.backingOffCount).toBe(1);
    setOnTry(() => undefined);
    clock.advance(1000);
    await queue.idle();
    expect(tried).toEqual([0, 1000]);
    expect(queue.unschedulableCount).toBe(1);
  });

  it('forgets a pod that is gone: no back-off timer, nothing parked', async () => {
    const { clock, queue, tried } = unschedulableQueue();
    queue.add('p');
    await queue.idle();
    queue.moveUnschedulable();
    queue.forget('p');
    expect(queue.backingOffCount + queue.unschedulableCount).toBe(0);
    clock.advance(400_000);
    await queue.idle();
    expect(tried).toHaveLength(1);
    queue.add('p'); // a new pod of that name: tried at once
    await queue.idle();
    expect(tried).toHaveLength(2);
  });
});

describe('node aggregates', () => {
  it('keeps, over seeded random pod changes, the figures a full recount gives', () => {
    const next = seededRandom(46);
    const agg = new NodeAggregates();
    const pods = new Map<string, Pod>();
    const nodes = ['a', 'b', 'c'];
    for (let step = 0; step < 3000; step++) {
      const key = `p${Math.floor(next() * 60)}`;
      if (next() < 0.2) {
        pods.delete(key);
        agg.update(key, undefined);
        continue;
      }
      const bound = next() < 0.7;
      const pod = aPod(key, {
        requests: { cpu: `${1 + Math.floor(next() * 500)}m`, memory: `${1 + Math.floor(next() * 64)}Mi` },
        ...(bound ? { nodeName: nodes[Math.floor(next() * 3)]! } : {}),
        ...(next() < 0.2 ? { phase: 'Succeeded' as const } : {}),
      });
      if (next() < 0.3) pod.spec.containers[0]!.ports = [{ containerPort: 80, hostPort: 8000 + Math.floor(next() * 3) }];
      if (bound && next() < 0.8) pod.metadata.annotations = { [POD_IP_ANNOTATION]: `10.42.1.${2 + Math.floor(next() * 200)}` };
      if (!bound && next() < 0.3) pod.status = { ...pod.status, nominatedNodeName: nodes[Math.floor(next() * 3)]! } as Pod['status'];
      if (next() < 0.3) pod.spec['priority'] = Math.floor(next() * 3);
      pods.set(key, pod);
      agg.update(key, pod);
      if (step % 50 !== 0) continue;
      const all = [...pods.values()];
      const incoming = aPod('incoming');
      incoming.spec['priority'] = 1;
      const expected = usageByNode(podsHoldingNodes(incoming, all));
      const view = agg.usageFor(incoming);
      for (const n of nodes) {
        const want = expected.get(n);
        const got = view.get(n);
        expect({ pods: got?.pods ?? 0, cpu: got?.cpuMillis ?? 0, mem: got?.memoryBytes ?? 0, ports: [...(got?.hostPorts ?? [])].sort() })
          .toEqual({ pods: want?.pods ?? 0, cpu: want?.cpuMillis ?? 0, mem: want?.memoryBytes ?? 0, ports: [...(want?.hostPorts ?? [])].sort() });
        const ips = new Set(all.filter((p) => p.spec.nodeName === n).map((p) => p.metadata.annotations?.[POD_IP_ANNOTATION]).filter(Boolean));
        expect(new Set(agg.usedIPs(n))).toEqual(ips);
      }
    }
  });
});

describe('a limited node search', () => {
  it('looks at every node up to 100, then an adaptive share, never under 100', () => {
    expect(feasibleNodesToFind(50)).toBe(50);
    expect(feasibleNodesToFind(100)).toBe(100);
    expect(feasibleNodesToFind(1000)).toBe(420);
    expect(feasibleNodesToFind(10_000)).toBe(500);
    expect(feasibleNodesToFind(150)).toBe(100);
  });
  it('starts where the last search stopped and stops once enough nodes fit', () => {
    const nodes = Array.from({ length: 10 }, (_, i) => aNode(`n${i}`));
    const placement = placePod(aPod('p'), nodes, new Map(), [], { start: 7, feasibleToFind: 2 });
    expect(placement.searched).toBe(2);
    expect(['n7', 'n8']).toContain(placement.node);
    // nothing fits: every node is looked at and every reason counted
    const none = placePod(aPod('p', { requests: { cpu: '100' } }), nodes, new Map(), [], { start: 3, feasibleToFind: 2 });
    expect(none.searched).toBe(10);
    expect(none.reasons.get('Insufficient cpu')).toBe(10);
  });
});
