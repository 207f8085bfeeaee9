// Field numbers of the Kubernetes protobuf messages kubectl create sends (from k8s.io/api generated.proto),
// limited to what skiff uses: ObjectMeta, PodTemplateSpec/PodSpec/Container basics, ConfigMap, Secret, Service, Deployment, Job, CronJob, ResourceQuota,
// PodDisruptionBudget.
import type { Schema } from './protobuf-wire.js';

const s = (name: string): Schema[number] => ({ name, kind: 'string' });
const strings = (name: string): Schema[number] => ({ name, kind: 'string', repeated: true });

const ownerReference: Schema = {
  1: s('kind'), 3: s('name'), 4: s('uid'), 5: s('apiVersion'),
  6: { name: 'controller', kind: 'ptrBool' }, 7: { name: 'blockOwnerDeletion', kind: 'ptrBool' },
};

export const objectMeta: Schema = {
  1: s('name'), 2: s('generateName'), 3: s('namespace'), 5: s('uid'), 6: s('resourceVersion'),
  7: { name: 'generation', kind: 'int' }, 8: { name: 'creationTimestamp', kind: 'time' },
  11: { name: 'labels', kind: 'map' }, 12: { name: 'annotations', kind: 'map' },
  13: { name: 'ownerReferences', kind: ownerReference, repeated: true }, 14: strings('finalizers'),
};

export const labelSelector: Schema = {
  1: { name: 'matchLabels', kind: 'map' },
  2: { name: 'matchExpressions', kind: { 1: s('key'), 2: s('operator'), 3: strings('values') }, repeated: true },
};

const keySelector: Schema = { 1: { name: 'localObjectReference', kind: { 1: s('name') } }, 2: s('key'), 3: { name: 'optional', kind: 'ptrBool' } };

const envVar: Schema = {
  1: s('name'), 2: s('value'),
  3: { name: 'valueFrom', kind: {
    1: { name: 'fieldRef', kind: { 1: s('apiVersion'), 2: s('fieldPath') } },
    3: { name: 'configMapKeyRef', kind: keySelector },
    4: { name: 'secretKeyRef', kind: keySelector },
  } },
};

const container: Schema = {
  1: s('name'), 2: s('image'), 3: strings('command'), 4: strings('args'), 5: s('workingDir'),
  6: { name: 'ports', kind: { 1: s('name'), 2: { name: 'hostPort', kind: 'int' }, 3: { name: 'containerPort', kind: 'int' }, 4: s('protocol'), 5: s('hostIP') }, repeated: true },
  7: { name: 'env', kind: envVar, repeated: true },
  8: { name: 'resources', kind: { 1: { name: 'limits', kind: 'quantityMap' }, 2: { name: 'requests', kind: 'quantityMap' } } },
  9: { name: 'volumeMounts', kind: { 1: s('name'), 2: { name: 'readOnly', kind: 'bool' }, 3: s('mountPath'), 4: s('subPath') }, repeated: true },
  13: s('terminationMessagePath'), 14: s('imagePullPolicy'), 16: { name: 'stdin', kind: 'bool' }, 17: { name: 'stdinOnce', kind: 'bool' },
  18: { name: 'tty', kind: 'bool' }, 20: s('terminationMessagePolicy'), 24: s('restartPolicy'),
};

const volume: Schema = {
  1: s('name'),
  // VolumeSource is embedded (inline in JSON): its fields are merged into the volume by the decoder's caller.
  2: { name: 'volumeSource', kind: {
    1: { name: 'hostPath', kind: { 1: s('path'), 2: s('type') } },
    2: { name: 'emptyDir', kind: { 1: s('medium') } },
    6: { name: 'secret', kind: { 1: s('secretName'), 3: { name: 'defaultMode', kind: 'ptrInt' }, 4: { name: 'optional', kind: 'ptrBool' } } },
    19: { name: 'configMap', kind: { 1: { name: 'localObjectReference', kind: { 1: s('name') } }, 3: { name: 'defaultMode', kind: 'ptrInt' }, 4: { name: 'optional', kind: 'ptrBool' } } },
  } },
};

const podSpec: Schema = {
  1: { name: 'volumes', kind: volume, repeated: true }, 2: { name: 'containers', kind: container, repeated: true },
  3: s('restartPolicy'), 4: { name: 'terminationGracePeriodSeconds', kind: 'ptrInt' }, 5: { name: 'activeDeadlineSeconds', kind: 'ptrInt' },
  6: s('dnsPolicy'), 7: { name: 'nodeSelector', kind: 'map' }, 8: s('serviceAccountName'), 10: s('nodeName'),
  11: { name: 'hostNetwork', kind: 'bool' }, 16: s('hostname'), 17: s('subdomain'), 19: s('schedulerName'),
  20: { name: 'initContainers', kind: container, repeated: true },
  22: { name: 'tolerations', kind: { 1: s('key'), 2: s('operator'), 3: s('value'), 4: s('effect'), 5: { name: 'tolerationSeconds', kind: 'ptrInt' } }, repeated: true },
};

export const podTemplateSpec: Schema = { 1: { name: 'metadata', kind: objectMeta }, 2: { name: 'spec', kind: podSpec } };

const intOrString = (name: string): Schema[number] => ({ name, kind: 'intOrString' });

export const deployment: Schema = {
  1: { name: 'metadata', kind: objectMeta },
  2: { name: 'spec', kind: {
    1: { name: 'replicas', kind: 'ptrInt' }, 2: { name: 'selector', kind: labelSelector }, 3: { name: 'template', kind: podTemplateSpec },
    4: { name: 'strategy', kind: { 1: s('type'), 2: { name: 'rollingUpdate', kind: { 1: intOrString('maxUnavailable'), 2: intOrString('maxSurge') } } } },
    5: { name: 'minReadySeconds', kind: 'int' }, 6: { name: 'revisionHistoryLimit', kind: 'ptrInt' }, 7: { name: 'paused', kind: 'bool' },
    9: { name: 'progressDeadlineSeconds', kind: 'ptrInt' },
  } },
};

const jobSpec: Schema = {
  1: { name: 'parallelism', kind: 'ptrInt' }, 2: { name: 'completions', kind: 'ptrInt' }, 3: { name: 'activeDeadlineSeconds', kind: 'ptrInt' },
  4: { name: 'selector', kind: labelSelector }, 5: { name: 'manualSelector', kind: 'ptrBool' }, 6: { name: 'template', kind: podTemplateSpec },
  7: { name: 'backoffLimit', kind: 'ptrInt' }, 8: { name: 'ttlSecondsAfterFinished', kind: 'ptrInt' }, 9: s('completionMode'),
  10: { name: 'suspend', kind: 'ptrBool' }, 14: s('podReplacementPolicy'),
};

export const job: Schema = { 1: { name: 'metadata', kind: objectMeta }, 2: { name: 'spec', kind: jobSpec } };

export const cronJob: Schema = {
  1: { name: 'metadata', kind: objectMeta },
  2: { name: 'spec', kind: {
    1: s('schedule'), 2: { name: 'startingDeadlineSeconds', kind: 'ptrInt' }, 3: s('concurrencyPolicy'), 4: { name: 'suspend', kind: 'ptrBool' },
    5: { name: 'jobTemplate', kind: { 1: { name: 'metadata', kind: objectMeta }, 2: { name: 'spec', kind: jobSpec } } },
    6: { name: 'successfulJobsHistoryLimit', kind: 'ptrInt' }, 7: { name: 'failedJobsHistoryLimit', kind: 'ptrInt' }, 8: s('timeZone'),
  } },
};

export const configMap: Schema = {
  1: { name: 'metadata', kind: objectMeta }, 2: { name: 'data', kind: 'map' }, 3: { name: 'binaryData', kind: 'bytesMap' },
  4: { name: 'immutable', kind: 'ptrBool' },
};

export const secret: Schema = {
  1: { name: 'metadata', kind: objectMeta }, 2: { name: 'data', kind: 'bytesMap' }, 3: s('type'),
  4: { name: 'stringData', kind: 'map' }, 5: { name: 'immutable', kind: 'ptrBool' },
};

export const service: Schema = {
  1: { name: 'metadata', kind: objectMeta },
  2: { name: 'spec', kind: {
    1: { name: 'ports', kind: { 1: s('name'), 2: s('protocol'), 3: { name: 'port', kind: 'int' }, 4: intOrString('targetPort'), 5: { name: 'nodePort', kind: 'int' }, 6: s('appProtocol') }, repeated: true },
    2: { name: 'selector', kind: 'map' }, 3: s('clusterIP'), 4: s('type'), 5: strings('externalIPs'), 7: s('sessionAffinity'),
    10: s('externalName'), 11: s('externalTrafficPolicy'), 13: { name: 'publishNotReadyAddresses', kind: 'bool' },
    18: strings('clusterIPs'), 19: strings('ipFamilies'), 17: s('ipFamilyPolicy'), 22: s('internalTrafficPolicy'),
  } },
};

export const namespace: Schema = {
  1: { name: 'metadata', kind: objectMeta },
  2: { name: 'spec', kind: { 1: strings('finalizers') } },
};

export const resourceQuota: Schema = {
  1: { name: 'metadata', kind: objectMeta },
  2: { name: 'spec', kind: { 1: { name: 'hard', kind: 'quantityMap' }, 2: strings('scopes') } },
};

export const podDisruptionBudget: Schema = {
  1: { name: 'metadata', kind: objectMeta },
  2: { name: 'spec', kind: { 1: intOrString('minAvailable'), 2: { name: 'selector', kind: labelSelector }, 3: intOrString('maxUnavailable'), 4: s('unhealthyPodEvictionPolicy') } },
};
