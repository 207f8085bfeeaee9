// What a ReplicaSet reconcile whose only work is status costs, at 1,000 to 100,000 pods: the walk it
// did before decision 072 (read its pods from the owner index, planReplicaSet, planReplicaSetStatus)
// against the kept counts (one pod event applied, then the counts read), and what building the counts
// once (the walk the kept counts still do when first reconciled) and choosing 500 pods to delete
// (scale-down: still a walk and a sort, its keys read once per pod or at every comparison) cost. In one process, no I/O.
// Usage: node dist/bench/replicaset-status.js [sizes=1000,10000,100000]. Prints JSON.
import { loadavg } from 'node:os';
import type { Pod } from '../api/types/pod.js';
import { ReplicaCountTracker } from '../control-plane/controllers/replicaset/replica-count-tracker.js';
import { BURST_REPLICAS, deletionOrder, planReplicaSet, planReplicaSetStatus, podsToDelete } from '../control-plane/controllers/replicaset/replica-plan.js';
import type { ReplicaSet } from '../control-plane/controllers/workload-kinds.js';
import { summarize } from './percentiles.js';

const sizes = (process.argv[2] ?? '1000,10000,100000').split(',').map(Number);
const load = () => loadavg().map((l) => Number(l.toFixed(1)));
const T0 = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const rs: ReplicaSet = {
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default', uid: 'uid-web', generation: 1 },
  spec: { replicas: 0, minReadySeconds: 5, selector: { matchLabels: { app: 'web', 'pod-template-hash': 'h' } }, template: { metadata: { labels: { app: 'web', 'pod-template-hash': 'h' } }, spec: { containers: [{ name: 'main', image: 'x' }] } } },
};
const owner = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'uid-web', controller: true }];
const pod = (i: number, ready: boolean, nowMs: number): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: `web-${i}`, namespace: 'default', uid: `uid-${i}`, labels: { app: 'web', 'pod-template-hash': 'h' }, ownerReferences: owner, creationTimestamp: iso(T0 + i) },
  spec: { nodeName: `n${i % 1000}`, containers: [{ name: 'main', image: 'x' }] },
  status: { phase: 'Running', conditions: ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: iso(nowMs - 1000 * (i % 10)) }] : [] },
});

function time(runs: number, fn: () => void): ReturnType<typeof summarize> {
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return summarize(samples);
}

const results = [];
for (const n of sizes) {
  let now = T0 + 100_000;
  // the informer's objects and its owner index (a Set of keys), as Informer.byIndex reads them
  const objects = new Map<string, Pod>();
  for (let i = 0; i < n; i++) objects.set(`default/web-${i}`, pod(i, i % 2 === 0, now));
  const ownerIndex = new Set(objects.keys());
  const byOwner = () => { const out: Pod[] = []; for (const k of ownerIndex) out.push(objects.get(k)!); return out; };
  const runs = Math.max(5, Math.min(200, Math.round(2_000_000 / n)));
  const walk = time(runs, () => {
    const plan = planReplicaSet(rs, byOwner());
    planReplicaSetStatus(rs, plan.active, now);
  });
  const tracker = new ReplicaCountTracker(() => byOwner());
  const build = time(1, () => tracker.countsFor('default/web', rs, now));
  let flip = 0;
  const kept = time(runs * 20, () => {
    // one pod turns Ready or not Ready, then the reconcile reads the counts
    const key = `default/web-${flip++ % n}`;
    const old = objects.get(key)!;
    const next = pod(Number(old.metadata.name!.slice(4)), !old.status?.conditions?.length, now);
    objects.set(key, next);
    tracker.observe('MODIFIED', next, old);
    now += 1;
    tracker.countsFor('default/web', rs, now).now(now);
  });
  const counts = tracker.countsFor('default/web', rs, now).now(now);
  const check = planReplicaSetStatus(rs, planReplicaSet(rs, byOwner()).active, now).status;
  if (counts.replicas !== check.replicas || counts.ready !== check.readyReplicas || counts.available !== check.availableReplicas) throw new Error('kept counts differ from the walk');
  const scaleDownRuns = Math.max(3, Math.round(runs / 4));
  const scaleDown = time(scaleDownRuns, () => podsToDelete(tracker.countsFor('default/web', rs, now).activePods(), BURST_REPLICAS));
  // what podsToDelete did before: a sort by deletionOrder, which reads each pod's keys at every comparison
  const scaleDownBySort = time(scaleDownRuns, () => [...tracker.countsFor('default/web', rs, now).activePods()].sort(deletionOrder).slice(0, BURST_REPLICAS));
  results.push({
    pods: n,
    statusOnlyReconcileMs: { walk: walk, keptCounts: kept },
    ratioWalkToKeptP50: Number((walk.p50 / Math.max(kept.p50, 0.0001)).toFixed(0)),
    buildCountsOnceMs: build.p50,
    chooseBurstToDeleteMs: { keysOnce: scaleDown, sortByDeletionOrder: scaleDownBySort },
  });
}
console.log(JSON.stringify({ bench: 'replicaset-status', node: process.version, loadAverage: load(), results }, null, 2));
