// The one label-selector matcher of skiff. A metav1.LabelSelector (matchLabels + matchExpressions)
// and a parsed query string (`app=web,tier in (a,b),!legacy`) both become requirements, matched here.
// Kubernetes semantics: a selector that is absent (nil) selects nothing; an empty one ({}) selects
// everything (LabelSelectorAsSelector); an empty query string selects everything (labels.Everything).
// An operator Kubernetes does not know selects nothing.

export type LabelRequirement =
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'never' };

export interface LabelSelectorExpression {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorExpression[];
}

const OPS: Record<string, 'in' | 'notin' | 'exists' | 'notexists'> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: 'notexists' };

/** The requirements of a metav1.LabelSelector (matchLabels as `key in (value)`). */
export function selectorRequirements(selector: LabelSelectorSpec): LabelRequirement[] {
  const out: LabelRequirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, v]) => ({ key, op: 'in', values: [v] }));
  for (const e of selector.matchExpressions ?? []) {
    const op = OPS[e.operator];
    if (op === 'in' || op === 'notin') out.push({ key: e.key, op, values: e.values ?? [] });
    else if (op) out.push({ key: e.key, op });
    else out.push({ key: e.key, op: 'never' });
  }
  return out;
}

export function matchesRequirements(requirements: readonly LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of requirements) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists': if (!has) return false; break;
      case 'notexists': if (has) return false; break;
      case 'in': if (!has || !r.values.includes(l[r.key]!)) return false; break;
      case 'notin': if (has && r.values.includes(l[r.key]!)) return false; break;
      default: return false;
    }
  }
  return true;
}

/** Whether a metav1.LabelSelector selects `labels`: undefined selects nothing, {} everything. */
export function matchesLabelSelector(selector: LabelSelectorSpec | undefined | null, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  return matchesRequirements(selectorRequirements(selector), labels);
}
