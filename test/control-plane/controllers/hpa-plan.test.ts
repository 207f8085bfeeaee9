import { describe, expect, it } from 'vitest';
import { planHpa, type Recommendation } from '../../../control-plane/controllers/hpa/hpa-plan.js';
import { cpuReplicas, type PodSample } from '../../../control-plane/controllers/hpa/replica-calc.js';
import type { HorizontalPodAutoscaler } from '../../../control-plane/resources/kinds/autoscaling.js';

const T0 = Date.UTC(2026, 0, 1);
const pods = (usages: Array<number | undefined>, request = 100, ready = true): PodSample[] =>
  usages.map((u, i) => ({ name: `p${i}`, ready, requestMillicores: request, usageMillicores: u }));

function hpa(spec: Partial<HorizontalPodAutoscaler['spec']> = {}): HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default', uid: 'u1' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      ...spec,
    },
  };
}
const cond = (plan: ReturnType<typeof planHpa>, type: string) => plan.conditions.find((c) => c.type === type);

describe('the CPU replica calculation', () => {
  it('scales in proportion to utilization over the target', () => {
    expect(cpuReplicas(2, pods([100, 100]), { type: 'Utilization', averageUtilization: 50 })).toMatchObject({ ok: true, replicas: 4, utilizationPercent: 100 });
    expect(cpuReplicas(4, pods([10, 10, 10, 10]), { type: 'Utilization', averageUtilization: 50 })).toMatchObject({ ok: true, replicas: 1, utilizationPercent: 10 });
  });

  it('keeps the count within the 0.1 tolerance', () => {
    expect(cpuReplicas(3, pods([54, 54, 54]), { type: 'Utilization', averageUtilization: 50 })).toMatchObject({ replicas: 3 });
    expect(cpuReplicas(3, pods([56, 56, 56]), { type: 'Utilization', averageUtilization: 50 })).toMatchObject({ replicas: 4 });
  });

  it('targets an average value per pod', () => {
    expect(cpuReplicas(2, pods([300, 300]), { type: 'AverageValue', averageMillicores: 200 })).toMatchObject({ ok: true, replicas: 3, averageMillicores: 300 });
  });

  it('assumes unmeasured pods idle when scaling up and busy when scaling down', () => {
    // two hot pods, two without samples: counted at 0 %, the ratio is (200+200)/(4*100)/0.5 = 2
    expect(cpuReplicas(4, pods([200, 200, undefined, undefined]), { type: 'Utilization', averageUtilization: 50 })).toMatchObject({ replicas: 8 });
    // two idle pods, one without a sample counted at the target: (0+0+50)/300/0.5 = 0.33 -> 1
    expect(cpuReplicas(3, pods([0, 0, undefined]), { type: 'Utilization', averageUtilization: 50 })).toMatchObject({ replicas: 1 });
    // unready pods do not push a scale-up: one hot ready pod and three cold unready ones
    const mixed = [...pods([60]), ...pods([200, 200, 200], 100, false).map((p, i) => ({ ...p, name: `u${i}` }))];
    expect(cpuReplicas(4, mixed, { type: 'Utilization', averageUtilization: 50 })).toMatchObject({ replicas: 4 });
  });

  it('fails without samples or without cpu requests', () => {
    expect(cpuReplicas(2, pods([undefined, undefined]), { type: 'Utilization', averageUtilization: 50 })).toMatchObject({ ok: false, reason: 'FailedGetResourceMetric' });
    const noRequest = [{ name: 'p0', ready: true, requestMillicores: undefined, usageMillicores: 10 }];
    expect(cpuReplicas(1, noRequest, { type: 'Utilization', averageUtilization: 50 })).toMatchObject({ ok: false, message: expect.stringContaining('missing request for cpu') });
  });
});

describe('the HPA plan', () => {
  it('scales up at once and reports metrics and conditions like Kubernetes', () => {
    const plan = planHpa({ hpa: hpa(), currentReplicas: 2, pods: pods([100, 100]), recommendations: [], nowMs: T0 });
    expect(plan).toMatchObject({ desiredReplicas: 4, rescale: true, rescaleReason: 'cpu resource utilization (percentage of request) above target' });
    expect(plan.currentMetrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 100, averageValue: '100m' } } }]);
    expect(cond(plan, 'ScalingActive')).toMatchObject({ status: 'True', reason: 'ValidMetricFound' });
    expect(cond(plan, 'ScalingLimited')).toMatchObject({ status: 'False', reason: 'DesiredWithinRange' });
    expect(cond(plan, 'AbleToScale')).toMatchObject({ status: 'True', reason: 'ReadyForNewScale' });
  });

  it('caps at maxReplicas and raises to minReplicas with ScalingLimited', () => {
    const high = planHpa({ hpa: hpa({ maxReplicas: 3 }), currentReplicas: 2, pods: pods([200, 200]), recommendations: [], nowMs: T0 });
    expect(high.desiredReplicas).toBe(3);
    expect(cond(high, 'ScalingLimited')).toMatchObject({ status: 'True', reason: 'TooManyReplicas' });
    const low = planHpa({ hpa: hpa({ minReplicas: 2, behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } }), currentReplicas: 3, pods: pods([1, 1, 1]), recommendations: [], nowMs: T0 });
    expect(low.desiredReplicas).toBe(2);
    expect(cond(low, 'ScalingLimited')).toMatchObject({ status: 'True', reason: 'TooFewReplicas' });
  });

  it('holds a scale-down for the stabilization window, then applies the highest recent recommendation', () => {
    let recommendations: Recommendation[] = [];
    const at = (ms: number, usage: number[], current: number) => {
      const plan = planHpa({ hpa: hpa(), currentReplicas: current, pods: pods(usage), recommendations, nowMs: T0 + ms });
      recommendations = plan.recommendations;
      return plan;
    };
    const first = at(0, [10, 10, 10, 10], 4);
    expect(first).toMatchObject({ desiredReplicas: 4, rescale: false });
    expect(cond(first, 'AbleToScale')).toMatchObject({ reason: 'ScaleDownStabilized' });
    expect(at(200_000, [30, 30, 30, 30], 4)).toMatchObject({ desiredReplicas: 4, rescale: false }); // proposes 3
    expect(at(300_001, [10, 10, 10, 10], 4)).toMatchObject({ desiredReplicas: 3, rescale: true }); // 4 left the window, 3 remains
    expect(at(500_001, [10, 10, 10], 3)).toMatchObject({ desiredReplicas: 1, rescale: true });
  });

  it('delays a scale-up by a scale-up window to the lowest recent recommendation', () => {
    let recommendations: Recommendation[] = [];
    const up = hpa({ behavior: { scaleUp: { stabilizationWindowSeconds: 60 } } });
    const at = (ms: number, usage: number[]) => {
      const plan = planHpa({ hpa: up, currentReplicas: 2, pods: pods(usage), recommendations, nowMs: T0 + ms });
      recommendations = plan.recommendations;
      return plan;
    };
    const first = at(0, [100, 100]);
    expect(first).toMatchObject({ desiredReplicas: 2, rescale: false });
    expect(cond(first, 'AbleToScale')).toMatchObject({ reason: 'ScaleUpStabilized' });
    expect(at(60_001, [100, 100])).toMatchObject({ desiredReplicas: 4, rescale: true });
  });

  it('disables scaling of a target scaled to zero and reports metric failures as ScalingActive=False', () => {
    const zero = planHpa({ hpa: hpa(), currentReplicas: 0, pods: [], recommendations: [], nowMs: T0 });
    expect(zero).toMatchObject({ desiredReplicas: 0, rescale: false });
    expect(cond(zero, 'ScalingActive')).toMatchObject({ status: 'False', reason: 'ScalingDisabled' });
    const blind = planHpa({ hpa: hpa(), currentReplicas: 2, pods: pods([undefined, undefined]), recommendations: [], nowMs: T0 });
    expect(blind).toMatchObject({ desiredReplicas: 2, rescale: false, warning: { reason: 'FailedGetResourceMetric' } });
    expect(cond(blind, 'ScalingActive')).toMatchObject({ status: 'False', reason: 'FailedGetResourceMetric' });
  });

  it('moves a target outside min/max straight to the bound', () => {
    const plan = planHpa({ hpa: hpa({ maxReplicas: 5 }), currentReplicas: 8, pods: pods([50, 50, 50, 50, 50, 50, 50, 50]), recommendations: [], nowMs: T0 });
    expect(plan).toMatchObject({ desiredReplicas: 5, rescale: true, rescaleReason: 'Current number of replicas above Spec.MaxReplicas' });
  });
});
