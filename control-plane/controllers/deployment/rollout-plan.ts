// Pure rollout steps, as Kubernetes' deployment controller takes them: RollingUpdate scales the new
// ReplicaSet up within maxSurge and old ones down while keeping replicas - maxUnavailable available
// (only available pods count); Recreate scales old ones to zero and waits for their pods to stop.
import type { Deployment, ReplicaSet } from '../workload-kinds.js';
import { byCreation, maxSurgeOf, maxUnavailableOf } from './deployment-revisions.js';

/** ReplicaSet name -> new spec.replicas, only for those that change. */
export type ScalePlan = Map<string, number>;

const replicasOf = (rs: ReplicaSet) => rs.spec.replicas ?? 0;
const availableOf = (rs: ReplicaSet) => rs.status?.availableReplicas ?? 0;

export function planRollingUpdate(d: Deployment, newRS: ReplicaSet, oldRSs: readonly ReplicaSet[]): ScalePlan {
  const plan: ScalePlan = new Map();
  const replicas = d.spec.replicas ?? 1;
  const all = [newRS, ...oldRSs];
  // 1. the new ReplicaSet, up within maxSurge (or down to replicas)
  const newReplicas = replicasOf(newRS);
  if (newReplicas > replicas) {
    plan.set(newRS.metadata.name!, replicas);
    return plan;
  }
  if (newReplicas < replicas) {
    const total = all.reduce((n, rs) => n + replicasOf(rs), 0);
    const room = replicas + maxSurgeOf(d) - total;
    if (room > 0) {
      plan.set(newRS.metadata.name!, newReplicas + Math.min(room, replicas - newReplicas));
      return plan;
    }
  }
  // 2. old ReplicaSets down, keeping minAvailable
  const active = oldRSs.filter((rs) => replicasOf(rs) > 0).sort(byCreation);
  if (active.length === 0) return plan;
  const minAvailable = replicas - maxUnavailableOf(d);
  const newUnavailable = Math.max(0, newReplicas - availableOf(newRS));
  const allPods = all.reduce((n, rs) => n + replicasOf(rs), 0);
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return plan;
  // 2a. unhealthy replicas first: they cost no availability
  const scaled = new Map(active.map((rs) => [rs.metadata.name!, replicasOf(rs)]));
  let cleaned = 0;
  for (const rs of active) {
    if (cleaned >= maxScaledDown) break;
    const current = scaled.get(rs.metadata.name!)!;
    const unhealthy = current - availableOf(rs);
    if (unhealthy <= 0) continue;
    const down = Math.min(maxScaledDown - cleaned, unhealthy);
    scaled.set(rs.metadata.name!, current - down);
    cleaned += down;
  }
  // 2b. then available ones, down to minAvailable
  const available = all.reduce((n, rs) => n + availableOf(rs), 0);
  let budget = Math.min(available - minAvailable, maxScaledDown - cleaned);
  for (const rs of active) {
    if (budget <= 0) break;
    const current = scaled.get(rs.metadata.name!)!;
    const down = Math.min(current, budget);
    scaled.set(rs.metadata.name!, current - down);
    budget -= down;
  }
  for (const rs of active) {
    const next = scaled.get(rs.metadata.name!)!;
    if (next !== replicasOf(rs)) plan.set(rs.metadata.name!, next);
  }
  return plan;
}

/** Recreate: old ReplicaSets to zero; once none of their pods runs, the new one to replicas. */
export function planRecreate(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[], oldPodsRunning: boolean): ScalePlan & { needsNew?: boolean } {
  const plan: ScalePlan & { needsNew?: boolean } = new Map();
  for (const rs of oldRSs) if (replicasOf(rs) > 0) plan.set(rs.metadata.name!, 0);
  if (plan.size > 0 || oldPodsRunning) return plan;
  if (!newRS) {
    plan.needsNew = true;
    return plan;
  }
  if (replicasOf(newRS) !== (d.spec.replicas ?? 1)) plan.set(newRS.metadata.name!, d.spec.replicas ?? 1);
  return plan;
}

/** Paused or otherwise not rolling: only follow spec.replicas on the newest active ReplicaSet. */
export function planScaleOnly(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ScalePlan {
  const plan: ScalePlan = new Map();
  const activeOld = oldRSs.filter((rs) => replicasOf(rs) > 0);
  const target = newRS ?? (activeOld.length === 1 ? activeOld[0] : undefined);
  if (!target || (newRS && activeOld.length > 0)) return plan;
  if (replicasOf(target) !== (d.spec.replicas ?? 1)) plan.set(target.metadata.name!, d.spec.replicas ?? 1);
  return plan;
}
