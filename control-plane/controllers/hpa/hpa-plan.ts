// Pure HPA decisions: the desired replica count from the CPU metrics (replica-calc.ts), kept within
// min/max and smoothed by the scale-up/scale-down stabilization windows over the recommendations of
// the last window (on the injected clock), with the conditions and currentMetrics Kubernetes reports.
import type { Condition } from '../../../api/types/meta.js';
import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus } from '../../resources/kinds/autoscaling.js';
import { quantityValue as parseQuantity } from '../../../api/quantity.js';
import { cpuReplicas, DEFAULT_TOLERANCE, type CpuTarget, type PodSample } from './replica-calc.js';

/** Kubernetes defaults: scale up at once, scale down on the highest recommendation of 5 minutes. */
export const DEFAULT_SCALE_UP_WINDOW_S = 0;
export const DEFAULT_SCALE_DOWN_WINDOW_S = 300;
/** autoscaling/v2 defaulting: no metrics means 80 % CPU utilization. */
const DEFAULT_METRICS: MetricSpec[] = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];

export interface Recommendation { atMs: number; replicas: number }

export interface HpaPlanInput {
  hpa: HorizontalPodAutoscaler;
  /** The target's spec.replicas. */
  currentReplicas: number;
  /** The target's active pods. */
  pods: readonly PodSample[];
  /** Earlier recommendations for this HPA (the controller keeps them in memory). */
  recommendations: readonly Recommendation[];
  nowMs: number;
  tolerance?: number;
}

export type PlannedCondition = Omit<Condition, 'lastTransitionTime'>;

export interface HpaPlan {
  desiredReplicas: number;
  /** Write spec.replicas of the target. */
  rescale: boolean;
  /** Why, for the SuccessfulRescale event. */
  rescaleReason?: string;
  recommendations: Recommendation[];
  currentMetrics: MetricStatus[];
  /** AbleToScale (as if the rescale succeeds), ScalingActive, ScalingLimited. */
  conditions: PlannedCondition[];
  /** A metric could not be computed (FailedGetResourceMetric and the like). */
  warning?: { reason: string; message: string };
}

const condition = (type: string, ok: boolean, reason: string, message: string): PlannedCondition => ({ type, status: ok ? 'True' : 'False', reason, message });

function cpuTargetOf(metric: MetricSpec): CpuTarget | string {
  if (metric.type !== 'Resource' || !metric.resource) return `the HPA does not support metric source type ${metric.type}`;
  if (metric.resource.name !== 'cpu') return `the HPA has no ${metric.resource.name} metrics: only cpu is measured`;
  const t = metric.resource.target;
  if (t.type === 'Utilization' && typeof t.averageUtilization === 'number' && t.averageUtilization > 0) return { type: 'Utilization', averageUtilization: t.averageUtilization };
  const cores = t.type === 'AverageValue' && t.averageValue ? parseQuantity(t.averageValue) : undefined;
  if (cores !== undefined && cores > 0) return { type: 'AverageValue', averageMillicores: cores * 1000 };
  return `invalid cpu target of type ${t.type}`;
}

function windowSeconds(hpa: HorizontalPodAutoscaler, direction: 'scaleUp' | 'scaleDown', fallback: number): number {
  const rules = (hpa.spec.behavior as Record<string, { stabilizationWindowSeconds?: number } | undefined> | undefined)?.[direction];
  return typeof rules?.stabilizationWindowSeconds === 'number' ? rules.stabilizationWindowSeconds : fallback;
}

export function planHpa(input: HpaPlanInput): HpaPlan {
  const { hpa, currentReplicas, nowMs } = input;
  const minReplicas = hpa.spec.minReplicas ?? 1;
  const maxReplicas = hpa.spec.maxReplicas;
  const keep = (extra: Partial<HpaPlan>): HpaPlan => ({
    desiredReplicas: currentReplicas, rescale: false, recommendations: [...input.recommendations], currentMetrics: [], conditions: [], ...extra,
  });

  if (currentReplicas === 0 && minReplicas !== 0) {
    return keep({ desiredReplicas: 0, conditions: [
      condition('AbleToScale', true, 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale'),
      condition('ScalingActive', false, 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero'),
    ] });
  }

  // every metric proposes a count; the largest wins (Kubernetes semantics)
  let proposed: number | undefined;
  let proposedBy = '';
  const currentMetrics: MetricStatus[] = [];
  let warning: HpaPlan['warning'];
  const metrics = hpa.spec.metrics?.length ? hpa.spec.metrics : DEFAULT_METRICS;
  for (const metric of metrics) {
    const target = cpuTargetOf(metric);
    if (typeof target === 'string') {
      warning ??= { reason: 'InvalidMetricSourceType', message: target };
      continue;
    }
    const calc = cpuReplicas(currentReplicas, input.pods, target, input.tolerance ?? DEFAULT_TOLERANCE);
    if (!calc.ok) {
      warning ??= { reason: calc.reason, message: calc.message };
      continue;
    }
    currentMetrics.push({ type: 'Resource', resource: { name: 'cpu', current: {
      averageValue: `${calc.averageMillicores}m`, ...(calc.utilizationPercent !== undefined ? { averageUtilization: calc.utilizationPercent } : {}),
    } } });
    if (proposed === undefined || calc.replicas > proposed) {
      proposed = calc.replicas;
      proposedBy = target.type === 'Utilization' ? 'cpu resource utilization (percentage of request)' : 'cpu resource';
    }
  }
  if (proposed === undefined) {
    return keep({ currentMetrics, ...(warning ? { warning } : {}), conditions: [
      condition('AbleToScale', true, 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale'),
      condition('ScalingActive', false, warning?.reason ?? 'FailedGetResourceMetric', `the HPA was unable to compute the replica count: ${warning?.message ?? 'no metrics'}`),
    ] });
  }
  const active = condition('ScalingActive', true, 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${proposedBy}`);

  // out of range at the start: go straight to the bound, as Kubernetes does
  if (currentReplicas > maxReplicas || currentReplicas < minReplicas) {
    const bound = currentReplicas > maxReplicas ? maxReplicas : minReplicas;
    return {
      desiredReplicas: bound, rescale: true,
      rescaleReason: currentReplicas > maxReplicas ? 'Current number of replicas above Spec.MaxReplicas' : 'Current number of replicas below Spec.MinReplicas',
      recommendations: [...input.recommendations], currentMetrics, ...(warning ? { warning } : {}),
      conditions: [condition('AbleToScale', true, 'ReadyForNewScale', 'recommended size matches current size'), active,
        condition('ScalingLimited', true, bound === maxReplicas ? 'TooManyReplicas' : 'TooFewReplicas',
          `the desired replica count is ${bound === maxReplicas ? 'more than the maximum' : 'less than the minimum'} replica count`)],
    };
  }

  // stabilization over the recommendations within each window (seeded with the current count)
  const upMs = windowSeconds(hpa, 'scaleUp', DEFAULT_SCALE_UP_WINDOW_S) * 1000;
  const downMs = windowSeconds(hpa, 'scaleDown', DEFAULT_SCALE_DOWN_WINDOW_S) * 1000;
  const history = input.recommendations.length ? input.recommendations : [{ atMs: nowMs, replicas: currentReplicas }];
  let upRecommendation = proposed;
  let downRecommendation = proposed;
  for (const r of history) {
    if (r.atMs > nowMs - upMs) upRecommendation = Math.min(upRecommendation, r.replicas);
    if (r.atMs > nowMs - downMs) downRecommendation = Math.max(downRecommendation, r.replicas);
  }
  let stabilized = Math.min(Math.max(currentReplicas, upRecommendation), downRecommendation);
  const keepMs = Math.max(upMs, downMs);
  const recommendations = [...history.filter((r) => r.atMs > nowMs - keepMs), { atMs: nowMs, replicas: proposed }];
  const ableToScale = stabilized === proposed
    ? condition('AbleToScale', true, 'ReadyForNewScale', 'recommended size matches current size')
    : stabilized < proposed
      ? condition('AbleToScale', true, 'ScaleUpStabilized', 'recent recommendations were lower than current one, applying the lowest recent recommendation')
      : condition('AbleToScale', true, 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation');

  let limited = condition('ScalingLimited', false, 'DesiredWithinRange', 'the desired count is within the acceptable range');
  if (stabilized > maxReplicas) {
    stabilized = maxReplicas;
    limited = condition('ScalingLimited', true, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count');
  } else if (stabilized < minReplicas) {
    stabilized = minReplicas;
    limited = condition('ScalingLimited', true, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count');
  }
  const rescale = stabilized !== currentReplicas;
  return {
    desiredReplicas: stabilized, rescale, recommendations, currentMetrics, ...(warning ? { warning } : {}),
    ...(rescale ? { rescaleReason: stabilized > currentReplicas ? `${proposedBy} above target` : 'All metrics below target' } : {}),
    conditions: [ableToScale, active, limited],
  };
}
