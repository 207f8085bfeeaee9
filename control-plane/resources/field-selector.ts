// Field selectors (`a=b,c!=d`): the fields each kind supports, like the real API server; others are 400s.
import { BadRequestError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { ResourceType } from './resource-types.js';

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
}

const commonFields = ['metadata.name', 'metadata.namespace'];

/** Extra selectable fields per plural, as Kubernetes registers them (GetAttrs / field label conversion). */
const fieldsByPlural: Record<string, string[]> = {
  pods: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork',
    'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  nodes: ['spec.unschedulable'],
  namespaces: ['status.phase'],
  secrets: ['type'],
  replicasets: ['status.replicas'],
  jobs: ['status.successful'],
  services: ['spec.clusterIP', 'spec.type'],
  persistentvolumes: ['spec.storageClassName'],
  events: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
    'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath',
    'reason', 'reportingComponent', 'source', 'type'],
};

/** Parses and checks the fields against `type`; throws BadRequestError (400). */
export function parseFieldSelector(type: ResourceType, text: string | undefined): FieldSelector {
  const requirements: FieldRequirement[] = [];
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return { requirements };
  const allowed = [...commonFields, ...(fieldsByPlural[type.plural] ?? [])];
  for (const raw of trimmed.split(',')) {
    const clause = raw.trim();
    const m = /^([^=!]*[^=!\s])\s*(==|=|!=)\s*(.*)$/.exec(clause); // (a lazy key + \s* was quadratic on long runs of spaces)
    if (!m) throw new BadRequestError(`invalid field selector: "${clause}"`);
    const field = m[1] ?? '';
    if (!allowed.includes(field)) {
      throw new BadRequestError(`field label not supported: ${field}`);
    }
    requirements.push({ field, op: m[2] === '!=' ? '!=' : '=', value: m[3] ?? '' });
  }
  return { requirements };
}

export function matchesFields(selector: FieldSelector, obj: KubeObject): boolean {
  return selector.requirements.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === '='));
}

/** A field's value as a string, '' when absent ("source" on events is source.component). */
function fieldValue(obj: KubeObject, field: string): string {
  if (field === 'source') return String((obj['source'] as { component?: string } | undefined)?.component ?? '');
  let cur: unknown = obj;
  for (const part of field.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return field === 'spec.unschedulable' || field === 'spec.hostNetwork' ? 'false' : '';
  return String(cur);
}

/** String-valued fields whose `=` terms can be checked on an object's stored JSON before parsing it. */
const PREFILTER_FIELDS: Record<string, string> = {
  'spec.nodeName': 'nodeName',
  'status.phase': 'phase',
  'metadata.name': 'name',
};
const SAFE_VALUE = /^[A-Za-z0-9._:@+-]+$/;

/**
 * A cheap test on an object's stored JSON (compact JSON.stringify output) that every object
 * matching `selector` passes: its `=` terms on the string fields above must appear as
 * `"key":"value"`. Lists use it to skip parsing objects that cannot match (say, the pods of other
 * nodes); what passes is still checked with matchesFields. Undefined when no term allows it.
 */
export function rawFieldPrefilter(selector: FieldSelector): ((json: string) => boolean) | undefined {
  const needles = selector.requirements
    .filter((r) => r.op === '=' && PREFILTER_FIELDS[r.field] !== undefined && SAFE_VALUE.test(r.value))
    .map((r) => `"${PREFILTER_FIELDS[r.field]}":"${r.value}"`);
  if (needles.length === 0) return undefined;
  return (json) => needles.every((needle) => json.includes(needle));
}

/** The `"nodeName":"X"` text of a `spec.nodeName=X` term, a hint stores may answer from an index. */
export function rawNodeNameNeedle(selector: FieldSelector): string | undefined {
  const term = selector.requirements.find((r) => r.op === '=' && r.field === 'spec.nodeName' && SAFE_VALUE.test(r.value));
  return term ? `"nodeName":"${term.value}"` : undefined;
}
