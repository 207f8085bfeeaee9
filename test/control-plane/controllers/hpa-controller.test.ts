import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rfc3339 } from '../../../api/clock.js';
import type { Pod } from '../../../api/types/pod.js';
import { HpaController } from '../../../control-plane/controllers/hpa/hpa-controller.js';
import { CPU_USAGE_ANNOTATION } from '../../../control-plane/controllers/hpa/pod-metrics.js';
import type { Deployment } from '../../../control-plane/controllers/workload-kinds.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import type { HorizontalPodAutoscaler } from '../../../control-plane/resources/kinds/autoscaling.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const logger = pino({ level: 'silent' });
const SYNC_MS = 15_000;

const deployment: Deployment = {
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'img:v1' }] } } },
};

const hpa: HorizontalPodAutoscaler = {
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
  },
};

describe('the HPA controller over the store', () => {
  let t: TestResources;
  let controller: HpaController;
  beforeEach(async () => {
    t = await openTestResources();
    controller = new HpaController({ resources: t.resources, events: new EventRecorder(t.resources, t.clock, logger), clock: t.clock, logger }, { syncPeriodMs: SYNC_MS });
    controller.start();
  });
  afterEach(async () => {
    controller.stop();
    await t.close();
  });

  /** Running, Ready pods of the Deployment's template with a 100m request, each with a usage sample as an agent writes it. */
  async function runPods(usages: number[]): Promise<void> {
    for (const [i, usage] of usages.entries()) {
      const name = `web-${i}`;
      const existing = await t.resources.get<Pod>(resourceTypes.pods, 'default', name).catch(() => undefined);
      if (!existing) {
        await t.resources.create<Pod>(resourceTypes.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'web' } },
          spec: { nodeName: 'n1', containers: [{ name: 'main', image: 'img:v1', resources: { requests: { cpu: '100m' } } }] } });
        await t.resources.mutate<Pod>(resourceTypes.pods, 'default', name, (p) => ({
          ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: rfc3339(t.clock.now()) }] } }), { subresource: 'status' });
      }
      await t.resources.mutate<Pod>(resourceTypes.pods, 'default', name, (p) => ({
        ...p, metadata: { ...p.metadata, annotations: { ...p.metadata.annotations, [CPU_USAGE_ANNOTATION]: String(usage) } } }));
    }
  }

  const getHpa = () => t.resources.get<HorizontalPodAutoscaler>(resourceTypes.horizontalpodautoscalers, 'default', 'web');
  const replicas = async () => (await t.resources.get<Deployment>(resourceTypes.deployments, 'default', 'web')).spec.replicas;
  async function until(check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 100; i++) {
      await controller.idle();
      if (await check()) return;
      await new Promise((r) => setImmediate(r));
    }
    throw new Error('the HPA did not converge');
  }

  it('scales a Deployment up on the CPU annotation, reports status, and scales down after the window', async () => {
    await t.resources.create(resourceTypes.deployments, deployment);
    await runPods([100, 100]); // 100 % of the request against a 50 % target
    await t.resources.create(resourceTypes.horizontalpodautoscalers, hpa);
    await until(async () => (await replicas()) === 4);
    await until(async () => (await getHpa()).status?.desiredReplicas === 4);
    const status = (await getHpa()).status!;
    expect(status).toMatchObject({ currentReplicas: 2, desiredReplicas: 4 });
    expect(status.lastScaleTime).toBeTruthy();
    expect(status.currentMetrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 100, averageValue: '100m' } } }]);
    const byType = Object.fromEntries(status.conditions!.map((c) => [c.type, [c.status, c.reason]]));
    expect(byType).toEqual({ AbleToScale: ['True', 'SucceededRescale'], ScalingActive: ['True', 'ValidMetricFound'], ScalingLimited: ['False', 'DesiredWithinRange'] });

    // load drops: the new pods idle too; the scale-down waits out the 60 s window
    await runPods([5, 5, 5, 5]);
    t.clock.advance(SYNC_MS);
    await until(async () => (await getHpa()).status?.currentReplicas === 4);
    expect(await replicas()).toBe(4);
    expect((await getHpa()).status?.conditions?.find((c) => c.type === 'AbleToScale')?.reason).toBe('ScaleDownStabilized');
    for (let i = 0; i < 4; i++) t.clock.advance(SYNC_MS);
    await until(async () => (await replicas()) === 1);
  });

  it('caps at maxReplicas with ScalingLimited and reports a missing target as FailedGetScale', async () => {
    await t.resources.create(resourceTypes.deployments, deployment);
    await runPods([400, 400]);
    await t.resources.create(resourceTypes.horizontalpodautoscalers, hpa);
    await until(async () => (await getHpa()).status?.conditions?.some((c) => c.type === 'ScalingLimited' && c.status === 'True') === true);
    expect(await replicas()).toBe(5);
    expect((await getHpa()).status?.conditions?.find((c) => c.type === 'ScalingLimited')?.reason).toBe('TooManyReplicas');

    await t.resources.create(resourceTypes.horizontalpodautoscalers, { ...hpa, metadata: { name: 'ghost', namespace: 'default' },
      spec: { ...hpa.spec, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'missing' } } });
    await until(async () => !!(await t.resources.get<HorizontalPodAutoscaler>(resourceTypes.horizontalpodautoscalers, 'default', 'ghost')).status);
    const ghost = await t.resources.get<HorizontalPodAutoscaler>(resourceTypes.horizontalpodautoscalers, 'default', 'ghost');
    expect(ghost.status?.conditions?.[0]).toMatchObject({ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale' });
  });
});
