// Field numbers (k8s.io/api generated.proto) of the further kinds kubectl sends as protobuf:
// `kubectl create serviceaccount|ingress|priorityclass`, `kubectl autoscale` (autoscaling/v1 and v2) and the
// pod `kubectl debug --copy-to` creates (the pod spec fields skiff reads; others are dropped).
import { objectMeta, podTemplateSpec } from './protobuf-schemas.js';
import type { Schema } from './protobuf-wire.js';

const s = (name: string): Schema[number] => ({ name, kind: 'string' });
const name: Schema = { 1: s('name') };

export const serviceAccount: Schema = {
  1: { name: 'metadata', kind: objectMeta },
  2: { name: 'secrets', kind: { 1: s('kind'), 2: s('namespace'), 3: s('name'), 4: s('uid'), 5: s('apiVersion'), 6: s('resourceVersion'), 7: s('fieldPath') }, repeated: true },
  3: { name: 'imagePullSecrets', kind: name, repeated: true },
  4: { name: 'automountServiceAccountToken', kind: 'ptrBool' },
};

const ingressBackend: Schema = {
  3: { name: 'resource', kind: { 1: s('apiGroup'), 2: s('kind'), 3: s('name') } },
  4: { name: 'service', kind: { 1: s('name'), 2: { name: 'port', kind: { 1: s('name'), 2: { name: 'number', kind: 'int' } } } } },
};

export const ingress: Schema = {
  1: { name: 'metadata', kind: objectMeta },
  2: { name: 'spec', kind: {
    1: { name: 'defaultBackend', kind: ingressBackend },
    2: { name: 'tls', kind: { 1: { name: 'hosts', kind: 'string', repeated: true }, 2: s('secretName') }, repeated: true },
    3: { name: 'rules', kind: {
      1: s('host'),
      // IngressRuleValue is inline in JSON: the decoder's caller merges its fields into the rule
      2: { name: 'ingressRuleValue', kind: { 1: { name: 'http', kind: { 1: { name: 'paths', kind: { 1: s('path'), 2: { name: 'backend', kind: ingressBackend }, 3: s('pathType') }, repeated: true } } } } },
    }, repeated: true },
    4: s('ingressClassName'),
  } },
};

const scaleTargetRef: Schema[number] = { name: 'scaleTargetRef', kind: { 1: s('kind'), 2: s('name'), 3: s('apiVersion') } };

export const horizontalPodAutoscalerV1: Schema = {
  1: { name: 'metadata', kind: objectMeta },
  2: { name: 'spec', kind: {
    1: scaleTargetRef, 2: { name: 'minReplicas', kind: 'ptrInt' }, 3: { name: 'maxReplicas', kind: 'int' }, 4: { name: 'targetCPUUtilizationPercentage', kind: 'ptrInt' },
  } },
};

export const horizontalPodAutoscalerV2: Schema = {
  1: { name: 'metadata', kind: objectMeta },
  2: { name: 'spec', kind: {
    1: scaleTargetRef, 2: { name: 'minReplicas', kind: 'ptrInt' }, 3: { name: 'maxReplicas', kind: 'int' },
    4: { name: 'metrics', kind: {
      1: s('type'),
      4: { name: 'resource', kind: { 1: s('name'), 2: { name: 'target', kind: { 1: s('type'), 4: { name: 'averageUtilization', kind: 'ptrInt' } } } } },
    }, repeated: true },
  } },
};

export const pod: Schema = { 1: { name: 'metadata', kind: objectMeta }, 2: podTemplateSpec[2]! };

/** `kubectl create priorityclass` (scheduling/v1 generated.proto; value is written even when 0). */
export const priorityClass: Schema = {
  1: { name: 'metadata', kind: objectMeta }, 2: { name: 'value', kind: 'ptrInt' }, 3: { name: 'globalDefault', kind: 'bool' },
  4: s('description'), 5: s('preemptionPolicy'),
};
