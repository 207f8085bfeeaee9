// The ReplicaSet's kept counts (decision 072) against a full walk: after a seeded random sequence
// of pod events (owners changing, labels, phases, readiness, deletion, the clock moving, the
// ReplicaSet's template labels, selector and minReadySeconds changing) they must equal what
// planReplicaSet / countReplicas compute from all the pods.
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { controllerRefOf } from '../../../control-plane/controllers/controller-ref.js';
import { ReplicaCountTracker } from '../../../control-plane/controllers/replicaset/replica-count-tracker.js';
import { countReplicas, planReplicaSet } from '../../../control-plane/controllers/replicaset/replica-plan.js';
import type { LabelSelectorSpec, ReplicaSet } from '../../../control-plane/controllers/workload-kinds.js';
import { seededRandom } from '../../support/seeded-random.js';
import { aManagedPod, aReplicaSet, T0 } from './workload-builders.js';

const iso = (ms: number) => new Date(ms).toISOString();
const OWNERS = ['a', 'b', 'c'];
const SELECTORS: Array<LabelSelectorSpec | undefined> = [
  { matchLabels: { app: 'web' } },
  { matchLabels: { app: 'web', tier: 'x' } },
  { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] },
  {},
];

function world(seed: number) {
  const next = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  let now = T0 + 100_000;
  const pods = new Map<string, Pod>();
  const replicaSets = new Map(OWNERS.map((o, i) => [o, { ...aReplicaSet(o), spec: { ...aReplicaSet(o).spec, selector: SELECTORS[i]!, minReadySeconds: [0, 5, 30][i]! } } as ReplicaSet]));
  const tracker = new ReplicaCountTracker((uid) => [...pods.values()].filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === uid)));

  const randomPod = (name: string): Pod => {
    const owner = pick([...OWNERS, undefined, undefined, 'foreign']);
    const labels: Record<string, string> = {};
    if (next() < 0.9) labels['app'] = pick(['web', 'web', 'api', 'other']);
    if (next() < 0.5) labels['tier'] = pick(['x', 'y']);
    const pod = aManagedPod(name, { labels, ...(owner ? { owner } : {}), node: next() < 0.7 ? 'n1' : undefined, phase: pick(['Pending', 'Running', 'Running', 'Succeeded', 'Failed'] as const), deleting: next() < 0.1 } as Parameters<typeof aManagedPod>[1]);
    if (next() < 0.15 && pod.metadata.ownerReferences) pod.metadata.ownerReferences = pod.metadata.ownerReferences.map((r) => ({ ...r, controller: false }));
    if (next() < 0.6) {
      // whole seconds mostly (kube's Time), so pods turn available exactly at a read; sometimes "in the future" (a skewed agent)
      const at = now - (next() < 0.7 ? 1000 * Math.floor(next() * 60) : Math.floor(next() * 60_000)) + (next() < 0.1 ? 20_000 : 0);
      pod.status = { ...pod.status, conditions: [{ type: 'Ready', status: 'True', ...(next() < 0.9 ? { lastTransitionTime: iso(at) } : {}) }] };
    }
    return pod;
  };

  const step = () => {
    const r = next();
    const name = `p${Math.floor(next() * 40)}`;
    const key = `default/${name}`;
    const old = pods.get(key);
    if (r < 0.55) {
      const pod = randomPod(name);
      pods.set(key, pod);
      tracker.observe(old ? 'MODIFIED' : 'ADDED', pod, old);
    } else if (r < 0.7) {
      if (old) {
        pods.delete(key);
        tracker.observe('DELETED', old, old);
      }
    } else if (r < 0.9) now += next() < 0.9 ? 1000 * Math.floor(next() * 8) : Math.floor(next() * 8_000);
    else if (r < 0.95) {
      const o = pick(OWNERS);
      const rs = replicaSets.get(o)!;
      const template = { ...rs.spec.template, metadata: { labels: (next() < 0.5 ? { app: 'web' } : { app: 'web', tier: 'x' }) as Record<string, string> } };
      replicaSets.set(o, { ...rs, spec: { ...rs.spec, template, minReadySeconds: pick([0, 5, 30]), ...(next() < 0.3 ? { selector: pick(SELECTORS) } : {}) } });
    } else if (r < 0.97) {
      const o = pick(OWNERS); // the ReplicaSet deleted and made again: a new UID, bound afresh
      const rs = replicaSets.get(o)!;
      replicaSets.set(o, { ...rs, metadata: { ...rs.metadata, uid: `${rs.metadata.uid}+` } });
      for (const [k, p] of pods) { // its pods are orphans now (the garbage collector's orphaning)
        if (controllerRefOf(p)?.uid !== rs.metadata.uid) continue;
        const orphan = { ...p, metadata: { ...p.metadata, ownerReferences: [] } };
        pods.set(k, orphan);
        tracker.observe('MODIFIED', orphan, p);
      }
    }
  };

  /** The kept counts of owner `o` against the walk. */
  const check = (o: string) => {
    const rs = replicaSets.get(o)!;
    const counts = tracker.countsFor(`default/${o}`, rs, now);
    const all = [...pods.values()];
    const plan = planReplicaSet(rs, all);
    const owned = plan.active.filter((p) => controllerRefOf(p)?.uid === rs.metadata.uid);
    expect(counts.now(now)).toEqual(countReplicas(rs, owned, now));
    expect(counts.activePods().map((p) => p.metadata.name).sort()).toEqual(owned.map((p) => p.metadata.name).sort());
    expect(counts.releasable().map((p) => p.metadata.name).sort()).toEqual(plan.release.map((p) => p.metadata.name).sort());
    expect(tracker.adoptable('default', rs.spec.selector).map((p) => p.metadata.name).sort()).toEqual(plan.adopt.map((p) => p.metadata.name).sort());
  };
  return { next, step, check, tracker };
}

describe('ReplicaSet counts kept per pod event', () => {
  it('equal a full walk after seeded random pod events (20 seeds x 600 events)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const w = world(seed);
      for (let i = 0; i < 600; i++) {
        w.step();
        if (w.next() < 0.3) w.check(OWNERS[Math.floor(w.next() * OWNERS.length)]!);
      }
      for (const o of OWNERS) w.check(o);
    }
  });

  it('build an owner from its pods once: later events are counted without a walk', () => {
    const w = world(7);
    for (let i = 0; i < 50; i++) w.step();
    for (const o of OWNERS) w.check(o);
    const walks = w.tracker.walks;
    expect(walks).toBeGreaterThanOrEqual(3);
    let changedShape = false;
    for (let i = 0; i < 300; i++) {
      const before = w.tracker.walks;
      w.step();
      for (const o of OWNERS) w.check(o);
      if (w.tracker.walks !== before) changedShape = true; // a ReplicaSet's labels/selector/minReadySeconds/UID changed
    }
    expect(changedShape).toBe(true);
    expect(w.tracker.walks - walks).toBeLessThan(60); // 900 reads, a walk only when the ReplicaSet itself changed
  });

  it('are built again when the clock goes back (a pod counted available may not be)', () => {
    const rs = { ...aReplicaSet('a'), spec: { ...aReplicaSet('a').spec, minReadySeconds: 10 } };
    const pod = aManagedPod('p', { owner: 'a', node: 'n', ready: true, readySinceMs: T0 });
    const tracker = new ReplicaCountTracker(() => [pod]);
    tracker.observe('ADDED', pod, undefined);
    expect(tracker.countsFor('default/a', rs, T0 + 11_000).now(T0 + 11_000)).toMatchObject({ ready: 1, available: 1 });
    expect(tracker.countsFor('default/a', rs, T0 + 5_000).now(T0 + 5_000)).toEqual({ replicas: 1, fullyLabeled: 1, ready: 1, available: 0, nextAvailableInMs: 5_000 });
    expect(tracker.walks).toBe(2);
  });
});
