// Just enough protobuf to read what kubectl create POSTs as application/vnd.kubernetes.protobuf: the `k8s\0`
// envelope, runtime.Unknown, and the kinds `kubectl create namespace|configmap|secret|service|deployment|job|cronjob|quota|pdb|serviceaccount|ingress|priorityclass`,
// `kubectl autoscale` and `kubectl debug --copy-to` send.
import { BadRequestError, UnsupportedMediaTypeError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import { configMap, cronJob, deployment, job, namespace, podDisruptionBudget, resourceQuota, secret, service } from './protobuf-schemas.js';
import {
  clusterRole, role, roleBinding, selfSubjectAccessReview, selfSubjectReview, selfSubjectRulesReview, subjectAccessReview, tokenRequest,
} from './protobuf-access-schemas.js';
import { horizontalPodAutoscalerV1, horizontalPodAutoscalerV2, ingress, pod, priorityClass, serviceAccount } from './protobuf-more-schemas.js';
import { bytes, decodeMessage, fields, text, type Schema } from './protobuf-wire.js';

/** Go structs embedded inline in JSON (`json:",inline"`) that protobuf nests as a field of their own. */
const inlineFields = new Set(['volumeSource', 'localObjectReference', 'ingressRuleValue']);

function flattenInline(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(flattenInline);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const flat = flattenInline(v);
    if (inlineFields.has(k) && flat && typeof flat === 'object') Object.assign(out, flat);
    else out[k] = flat;
  }
  return out;
}

const schemas: Record<string, Schema> = {
  'v1/Namespace': namespace,
  'v1/ConfigMap': configMap,
  'v1/Secret': secret,
  'v1/Service': service,
  'apps/v1/Deployment': deployment,
  'batch/v1/Job': job,
  'batch/v1/CronJob': cronJob,
  'v1/ResourceQuota': resourceQuota,
  'policy/v1/PodDisruptionBudget': podDisruptionBudget,
  'v1/ServiceAccount': serviceAccount,
  'v1/Pod': pod,
  'scheduling.k8s.io/v1/PriorityClass': priorityClass,
  'networking.k8s.io/v1/Ingress': ingress,
  'autoscaling/v1/HorizontalPodAutoscaler': horizontalPodAutoscalerV1,
  'autoscaling/v2/HorizontalPodAutoscaler': horizontalPodAutoscalerV2,
  'rbac.authorization.k8s.io/v1/Role': role,
  'rbac.authorization.k8s.io/v1/ClusterRole': clusterRole,
  'rbac.authorization.k8s.io/v1/RoleBinding': roleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': roleBinding,
  'authorization.k8s.io/v1/SelfSubjectAccessReview': selfSubjectAccessReview,
  'authorization.k8s.io/v1/SubjectAccessReview': subjectAccessReview,
  'authorization.k8s.io/v1/LocalSubjectAccessReview': subjectAccessReview,
  'authorization.k8s.io/v1/SelfSubjectRulesReview': selfSubjectRulesReview,
  'authentication.k8s.io/v1/SelfSubjectReview': selfSubjectReview,
  'authentication.k8s.io/v1/TokenRequest': tokenRequest,
};

function decodeTypeMeta(buf: Uint8Array): { apiVersion: string; kind: string } {
  const out = { apiVersion: '', kind: '' };
  for (const f of fields(buf)) {
    if (f.number === 1) out.apiVersion = text(f.value);
    if (f.number === 2) out.kind = text(f.value);
  }
  return out;
}

/** Decodes a protobuf request body; kinds without a schema are a 415 telling the client to send JSON. */
export function decodeProtobufObject(body: Uint8Array): KubeObject {
  const magic = [0x6b, 0x38, 0x73, 0x00];
  if (body.length < 4 || magic.some((b, i) => body[i] !== b)) throw new BadRequestError('protobuf body lacks the k8s\\0 envelope');
  let typeMeta = { apiVersion: '', kind: '' };
  let raw: Uint8Array = new Uint8Array();
  for (const f of fields(body.subarray(4))) {
    if (f.number === 1) typeMeta = decodeTypeMeta(bytes(f.value));
    if (f.number === 2) raw = bytes(f.value);
  }
  const schema = schemas[`${typeMeta.apiVersion}/${typeMeta.kind}`];
  if (!schema) {
    throw new UnsupportedMediaTypeError(`the protobuf encoding of ${typeMeta.apiVersion}/${typeMeta.kind} is not supported by skiff; send application/json (e.g. kubectl create -f <file>)`);
  }
  const obj = flattenInline(decodeMessage(raw, schema)) as Record<string, unknown>;
  return { ...obj, apiVersion: typeMeta.apiVersion, kind: typeMeta.kind, metadata: (obj['metadata'] as KubeObject['metadata']) ?? {} };
}
