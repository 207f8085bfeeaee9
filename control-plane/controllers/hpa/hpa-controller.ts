// The HorizontalPodAutoscaler controller (autoscaling/v2): every sync period it reads the HPA, its
// target's scale (spec.replicas of a Deployment or ReplicaSet) and the target's pods with their CPU
// samples, plans (hpa-plan.ts), writes the new spec.replicas when it changes, and reports status.
import { rfc3339 } from '../../../api/clock.js';
import { NotFoundError } from '../../../api/errors.js';
import type { Condition, KubeObject } from '../../../api/types/meta.js';
import type { Pod } from '../../../api/types/pod.js';
import type { HorizontalPodAutoscaler } from '../../resources/kinds/autoscaling.js';
import type { LabelSelector } from '../../resources/kinds/workloads.js';
import { quantityValue as parseQuantity } from '../../../api/quantity.js';
import { resourceTypes } from '../../resources/resource-types.js';
import type { ResourceType } from '../../resources/resource-types.js';
import { stableStringify } from '../../resources/stable-stringify.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import { byName } from '../../reconcile/owned-objects.js';
import { objectKeyOf, splitKey } from '../controller-ref.js';
import { isPodActive, isPodReady } from '../pod-readiness.js';
import { matchesSelector } from '../selector-match.js';
import type { ReconcileResult } from '../../reconcile/work-queue.js';
import { planHpa, type HpaPlan, type PlannedCondition, type Recommendation } from './hpa-plan.js';
import { AnnotationPodMetricsSource, type PodMetricsSource } from './pod-metrics.js';
import type { PodSample } from './replica-calc.js';

export interface HpaControllerOptions {
  /** How often each HPA is evaluated (Kubernetes: --horizontal-pod-autoscaler-sync-period, 15 s). */
  syncPeriodMs?: number;
  tolerance?: number;
  metrics?: PodMetricsSource;
}

interface Scalable extends KubeObject { spec: { replicas?: number; selector: LabelSelector } }

const SCALABLE: Record<string, ResourceType> = { Deployment: resourceTypes.deployments, ReplicaSet: resourceTypes.replicasets };

export class HpaController extends Controller {
  readonly #syncPeriodMs: number;
  readonly #metrics: PodMetricsSource;
  /** Recent recommendations per HPA uid, for the stabilization windows (in memory, like Kubernetes). */
  readonly #recommendations = new Map<string, Recommendation[]>();

  constructor(ctx: ControllerContext, private readonly options: HpaControllerOptions = {}) {
    super(ctx, 'horizontal-pod-autoscaler');
    this.#syncPeriodMs = options.syncPeriodMs ?? 15_000;
    this.#metrics = options.metrics ?? new AnnotationPodMetricsSource();
  }

  start(): void {
    this.watch<HorizontalPodAutoscaler>(resourceTypes.horizontalpodautoscalers, (type, hpa) => {
      if (type === 'DELETED') this.#recommendations.delete(hpa.metadata.uid!);
      // our own status writes are no news: evaluate on creation, spec changes and the sync period
      else if (type === 'ADDED' || hpa.status?.observedGeneration !== (hpa.metadata.generation ?? 1)) this.enqueue(objectKeyOf(hpa));
    });
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { resources, clock } = this.ctx;
    const { namespace, name } = splitKey(key);
    let hpa: HorizontalPodAutoscaler;
    try {
      hpa = await resources.get<HorizontalPodAutoscaler>(resourceTypes.horizontalpodautoscalers, namespace, name);
    } catch (error) {
      if (error instanceof NotFoundError) return;
      throw error;
    }
    const again = { requeueAfterMs: this.#syncPeriodMs };
    const ref = hpa.spec.scaleTargetRef;
    const type = SCALABLE[ref.kind];
    const target = type ? await resources.get<Scalable>(type, namespace, ref.name).catch((e: Error) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }) : undefined;
    if (!type || !target) {
      const message = type ? `${ref.kind.toLowerCase()}s "${ref.name}" not found` : `the HPA cannot scale kind ${ref.kind}`;
      this.recordEvent(hpa, 'Warning', 'FailedGetScale', message);
      await this.#writeStatus(hpa, { currentReplicas: hpa.status?.currentReplicas ?? 0, desiredReplicas: hpa.status?.desiredReplicas ?? 0 },
        [{ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message: `the HPA controller was unable to get the target's current scale: ${message}` }]);
      return again;
    }

    const currentReplicas = target.spec.replicas ?? 1;
    const pods = (target.spec.selector ? byName((await this.cache<Pod>(resourceTypes.pods)).byLabels(namespace, target.spec.selector.matchLabels)) : [])
      .filter((p) => isPodActive(p) && p.status?.phase !== 'Failed' && matchesSelector(target.spec.selector, p.metadata.labels));
    const usage = await this.#metrics.cpuUsageMillicores(pods);
    const samples: PodSample[] = pods.map((p) => ({
      name: p.metadata.name!, ready: isPodReady(p), requestMillicores: cpuRequestMillicores(p), usageMillicores: usage.get(p.metadata.name!),
    }));
    const uid = hpa.metadata.uid!;
    const plan = planHpa({
      hpa, currentReplicas, pods: samples, recommendations: this.#recommendations.get(uid) ?? [], nowMs: clock.now(),
      ...(this.options.tolerance !== undefined ? { tolerance: this.options.tolerance } : {}),
    });
    this.#recommendations.set(uid, plan.recommendations);
    if (plan.warning) this.recordEvent(hpa, 'Warning', plan.warning.reason, plan.warning.message);

    const conditions = [...plan.conditions];
    let lastScaleTime = hpa.status?.lastScaleTime;
    if (plan.rescale) {
      const failure = await this.#rescale(type, namespace, ref.name, plan);
      const able = conditions.findIndex((c) => c.type === 'AbleToScale');
      if (failure) {
        conditions[able] = { type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale', message: `the HPA controller was unable to update the target scale: ${failure}` };
        this.recordEvent(hpa, 'Warning', 'FailedRescale', `New size: ${plan.desiredReplicas}; reason: ${plan.rescaleReason}; error: ${failure}`);
      } else {
        conditions[able] = { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${plan.desiredReplicas}` };
        this.recordEvent(hpa, 'Normal', 'SuccessfulRescale', `New size: ${plan.desiredReplicas}; reason: ${plan.rescaleReason}`);
        lastScaleTime = rfc3339(clock.now());
      }
    }
    await this.#writeStatus(hpa, {
      currentReplicas, desiredReplicas: plan.desiredReplicas, currentMetrics: plan.currentMetrics,
      ...(lastScaleTime ? { lastScaleTime } : {}),
    }, conditions);
    return again;
  }

  async #rescale(type: ResourceType, namespace: string | undefined, name: string, plan: HpaPlan): Promise<string | undefined> {
    try {
      await this.ctx.resources.mutate<Scalable>(type, namespace, name, (t) =>
        t.spec.replicas === plan.desiredReplicas ? undefined : { ...t, spec: { ...t.spec, replicas: plan.desiredReplicas } });
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }

  /** Writes status when it changed; a condition keeps its lastTransitionTime while its status holds. */
  async #writeStatus(hpa: HorizontalPodAutoscaler, fields: Omit<NonNullable<HorizontalPodAutoscaler['status']>, 'conditions' | 'observedGeneration'>, planned: PlannedCondition[]): Promise<void> {
    const now = rfc3339(this.ctx.clock.now());
    const previous = hpa.status?.conditions ?? [];
    const conditions: Condition[] = planned.map((c) => {
      const old = previous.find((p) => p.type === c.type);
      return { ...c, lastTransitionTime: old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : now };
    });
    const status = { observedGeneration: hpa.metadata.generation ?? 1, ...fields, conditions };
    if (stableStringify(status) === stableStringify(hpa.status ?? {})) return;
    await this.ctx.resources.mutate<HorizontalPodAutoscaler>(resourceTypes.horizontalpodautoscalers, hpa.metadata.namespace, hpa.metadata.name!,
      (h) => (h.metadata.uid === hpa.metadata.uid ? { ...h, status } : undefined), { subresource: 'status' })
      .catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
  }
}

/** The pod's total cpu request in millicores, or undefined when a container requests none. */
export function cpuRequestMillicores(pod: Pod): number | undefined {
  let total = 0;
  for (const c of pod.spec.containers) {
    const text = c.resources?.requests?.['cpu'] ?? c.resources?.limits?.['cpu'];
    const cores = text !== undefined ? parseQuantity(text) : undefined;
    if (cores === undefined) return undefined;
    total += cores * 1000;
  }
  return total;
}
