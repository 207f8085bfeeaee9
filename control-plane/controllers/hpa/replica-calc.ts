// Pure: the replica count one CPU metric asks for, as the Kubernetes replica calculator computes it.
// Ratio = usage / target (per pod); inside the tolerance nothing changes; pods without samples and
// unready pods are assumed idle when scaling up and fully used when scaling down, and if that flips
// or cancels the decision the count stays.
export const DEFAULT_TOLERANCE = 0.1;

export interface PodSample {
  name: string;
  ready: boolean;
  /** Sum of the containers' cpu requests; undefined when a container has none. */
  requestMillicores: number | undefined;
  /** Measured usage; undefined when the pod has no sample yet. */
  usageMillicores: number | undefined;
}

export type CpuTarget = { type: 'Utilization'; averageUtilization: number } | { type: 'AverageValue'; averageMillicores: number };

export type ReplicaCalc =
  | { ok: true; replicas: number; utilizationPercent?: number; averageMillicores: number }
  | { ok: false; reason: string; message: string };

export function cpuReplicas(currentReplicas: number, pods: readonly PodSample[], target: CpuTarget, tolerance = DEFAULT_TOLERANCE): ReplicaCalc {
  const measured = pods.filter((p) => p.usageMillicores !== undefined);
  if (measured.length === 0) {
    return { ok: false, reason: 'FailedGetResourceMetric', message: 'failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API' };
  }
  // the denominator of a pod: its request (Utilization) or the target per pod (AverageValue)
  const perPodTarget = (p: PodSample): number | undefined =>
    target.type === 'Utilization' ? p.requestMillicores : target.averageMillicores;
  const missingRequest = pods.find((p) => perPodTarget(p) === undefined || perPodTarget(p) === 0);
  if (missingRequest) {
    return { ok: false, reason: 'FailedGetResourceMetric', message: `failed to get cpu utilization: missing request for cpu in pod ${missingRequest.name}` };
  }
  const targetFraction = target.type === 'Utilization' ? target.averageUtilization / 100 : 1;
  const ready = measured.filter((p) => p.ready);
  const unready = measured.filter((p) => !p.ready);
  const missing = pods.filter((p) => p.usageMillicores === undefined);
  const ratioOf = (samples: ReadonlyArray<{ usage: number; target: number }>) => {
    const usage = samples.reduce((s, x) => s + x.usage, 0);
    const denominator = samples.reduce((s, x) => s + x.target, 0);
    return usage / denominator / targetFraction;
  };
  const readySamples = ready.map((p) => ({ usage: p.usageMillicores!, target: perPodTarget(p)! }));
  if (readySamples.length === 0) {
    return { ok: false, reason: 'FailedGetResourceMetric', message: 'failed to get cpu utilization: did not receive metrics for any ready pods' };
  }
  const usageRatio = ratioOf(readySamples);
  const averageMillicores = readySamples.reduce((s, x) => s + x.usage, 0) / readySamples.length;
  const reported = {
    averageMillicores: Math.round(averageMillicores),
    ...(target.type === 'Utilization' ? { utilizationPercent: Math.round(usageRatio * target.averageUtilization) } : {}),
  };
  const within = (ratio: number) => Math.abs(1 - ratio) <= tolerance;

  if (missing.length === 0 && unready.length === 0) {
    const replicas = within(usageRatio) ? currentReplicas : Math.ceil(usageRatio * readySamples.length);
    return { ok: true, replicas, ...reported };
  }
  const scaleUp = usageRatio > 1;
  // the conservative assumptions for pods we cannot judge
  const assumed = [...readySamples];
  for (const p of missing) assumed.push({ usage: scaleUp ? 0 : perPodTarget(p)! * targetFraction, target: perPodTarget(p)! });
  if (scaleUp) for (const p of unready) assumed.push({ usage: 0, target: perPodTarget(p)! });
  const newRatio = ratioOf(assumed);
  if (within(newRatio) || (usageRatio < 1 && newRatio > 1) || (usageRatio > 1 && newRatio < 1)) {
    return { ok: true, replicas: currentReplicas, ...reported };
  }
  const replicas = Math.ceil(newRatio * assumed.length);
  // never move against the direction the measured pods point to
  if ((newRatio < 1 && replicas > currentReplicas) || (newRatio > 1 && replicas < currentReplicas)) return { ok: true, replicas: currentReplicas, ...reported };
  return { ok: true, replicas, ...reported };
}
