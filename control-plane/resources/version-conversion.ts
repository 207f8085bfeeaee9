// Kinds served in more than one version of a group: objects are stored in one version and converted
// when read or written through another (today: autoscaling/v1 HorizontalPodAutoscaler <-> v2).
import type { KubeObject } from '../../api/types/meta.js';
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerV1 } from './kinds/autoscaling.js';
import { findResource, type ResourceType } from './resource-types.js';

interface Converter {
  toStorage(obj: KubeObject): KubeObject;
  fromStorage(obj: KubeObject): KubeObject;
}

const cpuTarget = (hpa: HorizontalPodAutoscaler) =>
  hpa.spec?.metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target.type === 'Utilization')
    ?.resource?.target.averageUtilization;

const hpaV1: Converter = {
  toStorage(obj) {
    const v1 = obj as HorizontalPodAutoscalerV1;
    const { targetCPUUtilizationPercentage: cpu, ...spec } = v1.spec ?? ({} as HorizontalPodAutoscalerV1['spec']);
    const out: KubeObject = { ...v1, apiVersion: 'autoscaling/v2', spec: { ...spec } };
    if (cpu !== undefined) {
      (out['spec'] as HorizontalPodAutoscaler['spec']).metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } }];
    }
    if (v1.status) {
      const { currentCPUUtilizationPercentage: current, ...status } = v1.status;
      out['status'] = { ...status, ...(current !== undefined ? { currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current } } }] } : {}) };
    }
    return out;
  },
  fromStorage(obj) {
    const v2 = obj as HorizontalPodAutoscaler;
    const { metrics: _metrics, behavior: _behavior, ...spec } = v2.spec ?? ({} as HorizontalPodAutoscaler['spec']);
    const cpu = cpuTarget(v2);
    const out: KubeObject = { ...v2, apiVersion: 'autoscaling/v1', spec: { ...spec, ...(cpu !== undefined ? { targetCPUUtilizationPercentage: cpu } : {}) } };
    if (v2.status) {
      const { currentMetrics, conditions: _conditions, ...status } = v2.status;
      const current = currentMetrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.current.averageUtilization;
      out['status'] = { currentReplicas: 0, desiredReplicas: 0, ...status, ...(current !== undefined ? { currentCPUUtilizationPercentage: current } : {}) };
    }
    return out;
  },
};

const converters: Record<string, Converter> = { 'autoscaling/v1/horizontalpodautoscalers': hpaV1 };

const converterOf = (type: ResourceType): Converter | undefined => converters[`${type.apiVersion}/${type.plural}`];

/** The type objects of `type` are stored as (itself unless it has a storageVersion). */
export function storageTypeOf(type: ResourceType): ResourceType {
  if (!type.storageVersion) return type;
  const stored = findResource(type.group, type.storageVersion, type.plural);
  if (!stored) throw new Error(`no storage version ${type.storageVersion} for ${type.plural}`);
  return stored;
}

export function toStorage<T extends KubeObject>(type: ResourceType, obj: T): T {
  const c = converterOf(type);
  if (!c || !obj || typeof obj !== 'object') return obj;
  if (obj.apiVersion && obj.apiVersion !== type.apiVersion) return obj;
  return c.toStorage(obj) as T;
}

export function fromStorage<T extends KubeObject>(type: ResourceType, obj: T): T {
  const c = converterOf(type);
  return c ? (c.fromStorage(obj) as T) : obj;
}
