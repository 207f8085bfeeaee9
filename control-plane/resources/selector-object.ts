// metav1.LabelSelector objects (matchLabels + matchExpressions): matching, the string form, and validation.
import type { StatusCause } from '../../api/errors.js';
import { invalid, notSupported, required } from './field-causes.js';
import type { LabelSelector } from './kinds/workloads.js';
import { validateLabels } from './metadata-validation.js';
import { checkQualifiedName } from './name-validation.js';

const operators = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** Whether `labels` match (api/label-selector.ts: an absent selector selects nothing, an empty one everything). */
export { matchesLabelSelector } from '../../api/label-selector.js';

/** The `labelSelector` query string form (`a=b,c in (d,e)`), as Scale status.selector and kubectl show it. */
export function formatLabelSelector(selector: LabelSelector | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {}).sort(([a], [b]) => a.localeCompare(b))) parts.push(`${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

export const isEmptyLabelSelector = (s: LabelSelector | undefined): boolean =>
  Object.keys(s?.matchLabels ?? {}).length === 0 && (s?.matchExpressions ?? []).length === 0;

export function validateLabelSelector(selector: unknown, field: string): StatusCause[] {
  if (selector === undefined || selector === null) return [];
  if (typeof selector !== 'object' || Array.isArray(selector)) return [invalid(field, selector, 'must be a label selector object')];
  const s = selector as LabelSelector;
  const causes = validateLabels(s.matchLabels, `${field}.matchLabels`);
  (s.matchExpressions ?? []).forEach((e, i) => {
    const f = `${field}.matchExpressions[${i}]`;
    if (!e?.key) causes.push(required(`${f}.key`));
    else for (const m of checkQualifiedName(e.key)) causes.push(invalid(`${f}.key`, e.key, m));
    if (!operators.includes(e?.operator)) causes.push(notSupported(`${f}.operator`, e?.operator, operators));
    else if ((e.operator === 'In' || e.operator === 'NotIn') && !(e.values?.length)) {
      causes.push(required(`${f}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\''));
    } else if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && e.values?.length) {
      causes.push({ field: `${f}.values`, reason: 'FieldValueForbidden', message: 'Forbidden: may not be specified when `operator` is \'Exists\' or \'DoesNotExist\'' });
    }
  });
  return causes;
}
