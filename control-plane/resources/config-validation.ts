// Validation of ConfigMap, Secret, PersistentVolume(Claim) and HorizontalPodAutoscaler, with the real server's wording.
import type { StatusCause } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import { duplicate, forbidden, invalid, notSupported, required } from './field-causes.js';
import type { HorizontalPodAutoscaler } from './kinds/autoscaling.js';
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Secret } from './kinds/config.js';
import { quantityValue as parseQuantity } from '../../api/quantity.js';
import { stableStringify } from './stable-stringify.js';

const maxDataBytes = 1024 * 1024;
const configKey = /^[-._a-zA-Z0-9]+$/;
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const accessModes = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];

function checkConfigKey(field: string, key: string): StatusCause[] {
  if (configKey.test(key) && key !== '.' && key !== '..' && !key.startsWith('..') && key.length <= 253) return [];
  return [invalid(field, key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")];
}

export function validateConfigMap(cm: ConfigMap): StatusCause[] {
  const causes: StatusCause[] = [];
  let bytes = 0;
  for (const [k, v] of Object.entries(cm.data ?? {})) {
    causes.push(...checkConfigKey('data', k));
    if (typeof v !== 'string') causes.push(invalid(`data[${k}]`, v, 'must be a string'));
    bytes += k.length + String(v).length;
  }
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) {
    causes.push(...checkConfigKey('binaryData', k));
    if (cm.data && Object.hasOwn(cm.data, k)) causes.push(duplicate('binaryData', k));
    if (typeof v !== 'string' || !base64.test(v)) causes.push(invalid(`binaryData[${k}]`, '<value omitted>', 'must be base64 encoded'));
    bytes += k.length + Math.floor((String(v).length * 3) / 4);
  }
  if (bytes > maxDataBytes) causes.push({ field: '', reason: 'FieldValueTooLong', message: `Too long: must have at most ${maxDataBytes} bytes` });
  return causes;
}

const requiredKeys: Record<string, string[]> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

export function validateSecret(secret: Secret): StatusCause[] {
  const causes: StatusCause[] = [];
  let bytes = 0;
  for (const [k, v] of Object.entries(secret.data ?? {})) {
    causes.push(...checkConfigKey('data', k));
    // Values are never echoed: they are secret.
    if (typeof v !== 'string' || !base64.test(v)) causes.push(invalid(`data[${k}]`, '<value omitted>', 'must be base64 encoded'));
    bytes += k.length + Math.floor((String(v).length * 3) / 4);
  }
  if (bytes > maxDataBytes) causes.push({ field: 'data', reason: 'FieldValueTooLong', message: `Too long: must have at most ${maxDataBytes} bytes` });
  const type = secret.type ?? 'Opaque';
  for (const key of requiredKeys[type] ?? []) if (!secret.data?.[key]) causes.push(required(`data[${key}]`));
  if (type === 'kubernetes.io/basic-auth' && !secret.data?.['username'] && !secret.data?.['password']) causes.push(required('data[username]'));
  if (type === 'kubernetes.io/service-account-token' && !secret.metadata.annotations?.['kubernetes.io/service-account.name']) {
    causes.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
  }
  return causes;
}

/** Secret type is immutable; `immutable: true` ConfigMaps and Secrets freeze their data. */
export function validateConfigUpdate(plural: string, oldObj: KubeObject, newObj: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  if (plural === 'secrets' && (oldObj['type'] ?? 'Opaque') !== (newObj['type'] ?? 'Opaque')) causes.push(invalid('type', newObj['type'], 'field is immutable'));
  if (oldObj['immutable'] === true) {
    if (newObj['immutable'] !== true) causes.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
    for (const field of ['data', 'binaryData']) {
      if (stableStringify(oldObj[field] ?? {}) !== stableStringify(newObj[field] ?? {})) causes.push(forbidden(field, 'field is immutable when `immutable` is set'));
    }
  }
  return causes;
}

function validateAccessModes(modes: unknown, field: string): StatusCause[] {
  if (!Array.isArray(modes) || modes.length === 0) return [required(field)];
  return modes.filter((m) => !accessModes.includes(m)).map((m) => notSupported(field, m, accessModes));
}

export function validatePersistentVolume(pv: PersistentVolume): StatusCause[] {
  const spec = pv.spec;
  if (!spec || typeof spec !== 'object') return [required('spec')];
  const causes = validateAccessModes(spec.accessModes, 'spec.accessModes');
  const storage = spec.capacity?.['storage'];
  if (!spec.capacity || Object.keys(spec.capacity).length === 0) causes.push(required('spec.capacity'));
  else if (storage === undefined) causes.push(notSupported('spec.capacity', Object.keys(spec.capacity)[0], ['storage']));
  else if (parseQuantity(String(storage)) === undefined) causes.push(invalid('spec.capacity[storage]', storage, 'must be a valid quantity'));
  const known = new Set(['capacity', 'accessModes', 'claimRef', 'persistentVolumeReclaimPolicy', 'storageClassName', 'volumeMode',
    'mountOptions', 'nodeAffinity', 'volumeAttributesClassName']);
  if (!Object.keys(spec).some((k) => !known.has(k))) causes.push(required('spec', 'must specify a volume type'));
  const policies = ['Delete', 'Recycle', 'Retain'];
  if (spec.persistentVolumeReclaimPolicy && !policies.includes(spec.persistentVolumeReclaimPolicy)) {
    causes.push(notSupported('spec.persistentVolumeReclaimPolicy', spec.persistentVolumeReclaimPolicy, policies));
  }
  return [...causes, ...validateVolumePaths(spec)];
}

/** hostPath and local paths, and the node affinity a local volume needs (as apimachinery checks them). */
function validateVolumePaths(spec: PersistentVolume['spec']): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const source of ['hostPath', 'local'] as const) {
    const s = spec[source];
    if (s === undefined) continue;
    const path = (s as { path?: unknown } | null)?.path;
    if (typeof path !== 'string' || path === '') causes.push(required(`spec.${source}.path`));
    else if (path.split('/').includes('..')) causes.push(invalid(`spec.${source}.path`, path, "must not contain '..'"));
  }
  const terms = (spec['nodeAffinity'] as { required?: { nodeSelectorTerms?: unknown[] } } | undefined)?.required?.nodeSelectorTerms;
  if (spec['nodeAffinity'] !== undefined && (!Array.isArray(terms) || terms.length === 0)) causes.push(required('spec.nodeAffinity.required.nodeSelectorTerms', 'must have at least one node selector term'));
  if (spec.local !== undefined && spec['nodeAffinity'] === undefined) causes.push(required('spec.nodeAffinity', 'Local volume requires node affinity'));
  return causes;
}

export function validatePersistentVolumeClaim(pvc: PersistentVolumeClaim): StatusCause[] {
  const spec = pvc.spec;
  if (!spec || typeof spec !== 'object') return [required('spec')];
  const causes = validateAccessModes(spec.accessModes, 'spec.accessModes');
  const storage = spec.resources?.requests?.['storage'];
  if (storage === undefined) causes.push(required('spec.resources[storage]'));
  else if (parseQuantity(String(storage)) === undefined) causes.push(invalid('spec.resources.requests[storage]', storage, 'must be a valid quantity'));
  const cls = spec.storageClassName;
  if (cls !== undefined && cls !== '' && (typeof cls !== 'string' || !dnsSubdomain.test(cls) || cls.length > 253)) {
    causes.push(invalid('spec.storageClassName', cls, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"));
  }
  return causes;
}

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * A claim's spec is fixed after creation except requests (expansion), binding to a volume, and a
 * class given to a claim that had none (retroactive default StorageClass assignment).
 */
export function validatePersistentVolumeClaimUpdate(oldPvc: PersistentVolumeClaim, newPvc: PersistentVolumeClaim): StatusCause[] {
  const classless = oldPvc.spec?.storageClassName === undefined;
  const fixed = (p: PersistentVolumeClaim) => ({ ...p.spec, resources: undefined, volumeName: undefined, ...(classless ? { storageClassName: undefined } : {}) });
  const rebinding = Boolean(oldPvc.spec?.volumeName) && newPvc.spec?.volumeName !== oldPvc.spec?.volumeName;
  if (!rebinding && stableStringify(fixed(oldPvc)) === stableStringify(fixed(newPvc))) return [];
  return [forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims')];
}

export function validateHorizontalPodAutoscaler(hpa: HorizontalPodAutoscaler): StatusCause[] {
  const spec = hpa.spec;
  if (!spec || typeof spec !== 'object') return [required('spec')];
  const causes: StatusCause[] = [];
  if (!spec.scaleTargetRef?.kind) causes.push(required('spec.scaleTargetRef.kind'));
  if (!spec.scaleTargetRef?.name) causes.push(required('spec.scaleTargetRef.name'));
  const min = spec.minReplicas ?? 1;
  if (!Number.isInteger(min) || min < 1) causes.push(invalid('spec.minReplicas', spec.minReplicas, 'must be greater than or equal to 1'));
  if (spec.maxReplicas === undefined) causes.push(required('spec.maxReplicas'));
  else if (!Number.isInteger(spec.maxReplicas) || spec.maxReplicas < min) {
    causes.push(invalid('spec.maxReplicas', spec.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  }
  const metricTypes = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
  (spec.metrics ?? []).forEach((m, i) => {
    if (!metricTypes.includes(m?.type)) causes.push(notSupported(`spec.metrics[${i}].type`, m?.type, metricTypes));
    else if (m.type === 'Resource' && !m.resource?.name) causes.push(required(`spec.metrics[${i}].resource.name`));
  });
  return causes;
}
