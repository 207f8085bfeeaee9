// metav1.LabelSelector matching for controllers (the matcher is api/label-selector.ts) and its query-string form.
import { matchesLabelSelector } from '../../api/label-selector.js';
import type { LabelSelectorSpec } from './workload-kinds.js';

/** A metav1.LabelSelector against labels (api/label-selector.ts: undefined selects nothing, {} everything). */
export const matchesSelector = (selector: LabelSelectorSpec | undefined, labels: Record<string, string> | undefined): boolean =>
  matchesLabelSelector(selector, labels);

/** The selector as a query string for list calls (`a=b,c in (d,e),!f`). */
export function selectorToString(selector: LabelSelectorSpec | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}
