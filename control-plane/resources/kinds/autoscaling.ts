// TypeScript shapes of autoscaling kinds: HorizontalPodAutoscaler (v2, v1) and the Scale subresource.
import type { Condition, KubeObject } from '../../../api/types/meta.js';

export interface CrossVersionObjectReference { apiVersion?: string; kind: string; name: string }

export interface MetricTarget {
  type: 'Utilization' | 'Value' | 'AverageValue';
  averageUtilization?: number;
  averageValue?: string;
  value?: string;
}

export interface MetricSpec {
  type: 'Resource' | 'Pods' | 'Object' | 'External' | 'ContainerResource';
  resource?: { name: string; target: MetricTarget };
  containerResource?: { name: string; container: string; target: MetricTarget };
  pods?: { metric: { name: string }; target: MetricTarget };
  object?: { metric: { name: string }; describedObject: CrossVersionObjectReference; target: MetricTarget };
  external?: { metric: { name: string }; target: MetricTarget };
}

export interface MetricStatus {
  type: MetricSpec['type'];
  resource?: { name: string; current: { averageUtilization?: number; averageValue?: string; value?: string } };
  [source: string]: unknown;
}

export interface HorizontalPodAutoscaler extends KubeObject {
  apiVersion: 'autoscaling/v2';
  kind: 'HorizontalPodAutoscaler';
  spec: {
    scaleTargetRef: CrossVersionObjectReference;
    minReplicas?: number;
    maxReplicas: number;
    metrics?: MetricSpec[];
    behavior?: Record<string, unknown>;
  };
  status?: {
    observedGeneration?: number;
    lastScaleTime?: string;
    currentReplicas?: number;
    desiredReplicas?: number;
    currentMetrics?: MetricStatus[];
    conditions?: Condition[];
  };
}

/** autoscaling/v1 HorizontalPodAutoscaler as served on the v1 endpoint (converted from v2). */
export interface HorizontalPodAutoscalerV1 extends KubeObject {
  apiVersion: 'autoscaling/v1';
  kind: 'HorizontalPodAutoscaler';
  spec: { scaleTargetRef: CrossVersionObjectReference; minReplicas?: number; maxReplicas: number; targetCPUUtilizationPercentage?: number };
  status?: { observedGeneration?: number; lastScaleTime?: string; currentReplicas: number; desiredReplicas: number; currentCPUUtilizationPercentage?: number };
}

/** autoscaling/v1 Scale: what `.../deployments/x/scale` serves. */
export interface Scale extends KubeObject {
  apiVersion: 'autoscaling/v1';
  kind: 'Scale';
  spec: { replicas?: number };
  status?: { replicas: number; selector?: string };
}

/** policy/v1 Eviction: POSTed to `pods/x/eviction`. */
export interface Eviction extends KubeObject {
  apiVersion: 'policy/v1';
  kind: 'Eviction';
  deleteOptions?: { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: string[] };
}
