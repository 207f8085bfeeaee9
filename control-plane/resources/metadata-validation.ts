// ObjectMeta checks shared by every kind: name syntax, namespace, labels, annotations.
import type { StatusCause } from '../../api/errors.js';
import type { ObjectMeta } from '../../api/types/meta.js';
import { invalid, required } from './field-causes.js';
import { checkDns1123Label, checkDns1123Subdomain, checkLabelValue, checkQualifiedName } from './name-validation.js';
import type { ResourceType } from './resource-types.js';

const maxAnnotationsBytes = 256 * 1024;

/** Kinds whose names are DNS-1123 labels rather than subdomains. */
const labelNamedPlurals = new Set(['namespaces']);
/** RBAC kinds: any path segment name (`system:node`, `edit`), as ValidateRBACName. */
const pathSegmentNamedPlurals = new Set(['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings']);

/** path.IsValidPathSegmentName: not "." or "..", no "/" or "%". */
export function checkPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const bad = ['/', '%'].filter((c) => name.includes(c));
  return bad.map((c) => `may not contain '${c}'`);
}

export function validateMetadata(type: ResourceType, meta: ObjectMeta | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!meta || typeof meta !== 'object') return [required('metadata')];
  const name = meta.name;
  if (!name) {
    causes.push(required('metadata.name', 'name or generateName is required'));
  } else {
    const check = labelNamedPlurals.has(type.plural) ? checkDns1123Label
      : pathSegmentNamedPlurals.has(type.plural) ? checkPathSegmentName : checkDns1123Subdomain;
    for (const m of check(name)) causes.push(invalid('metadata.name', name, m));
  }
  if (type.namespaced) {
    if (!meta.namespace) causes.push(required('metadata.namespace'));
    else for (const m of checkDns1123Label(meta.namespace)) causes.push(invalid('metadata.namespace', meta.namespace, m));
  }
  causes.push(...validateLabels(meta.labels, 'metadata.labels'));
  causes.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
  return causes;
}

export function validateLabels(labels: unknown, field: string): StatusCause[] {
  if (labels === undefined || labels === null) return [];
  if (typeof labels !== 'object') return [invalid(field, labels, 'must be a map of string keys to string values')];
  const causes: StatusCause[] = [];
  for (const [k, v] of Object.entries(labels)) {
    for (const m of checkQualifiedName(k)) causes.push(invalid(field, k, m));
    if (typeof v !== 'string') causes.push(invalid(`${field}`, v, 'must be a string'));
    else for (const m of checkLabelValue(v)) causes.push(invalid(field, v, m));
  }
  return causes;
}

function validateAnnotations(annotations: unknown, field: string): StatusCause[] {
  if (annotations === undefined || annotations === null) return [];
  if (typeof annotations !== 'object') return [invalid(field, annotations, 'must be a map of string keys to string values')];
  const causes: StatusCause[] = [];
  let bytes = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const m of checkQualifiedName(k.toLowerCase())) causes.push(invalid(field, k, m));
    bytes += k.length + String(v).length;
  }
  if (bytes > maxAnnotationsBytes) causes.push({ field, reason: 'FieldValueTooLong', message: `Too long: must have at most ${maxAnnotationsBytes} bytes` });
  return causes;
}
