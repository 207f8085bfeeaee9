// Label selectors (equality- and set-based: =, ==, !=, in, notin, key, !key): parse once, match many.
import { BadRequestError } from '../../api/errors.js';
import { matchesRequirements, type LabelRequirement } from '../../api/label-selector.js';
import { checkLabelValue, checkQualifiedName } from './name-validation.js';

export type { LabelRequirement } from '../../api/label-selector.js';

export interface LabelSelector {
  requirements: LabelRequirement[];
}

/** Parses `app=web,tier in (a,b),!legacy`; throws BadRequestError (400) on bad syntax. */
export function parseLabelSelector(text: string | undefined): LabelSelector {
  const requirements: LabelRequirement[] = [];
  for (const clause of splitClauses(text ?? '')) requirements.push(parseClause(clause));
  return { requirements };
}

/** An empty (or absent) query selects everything, as labels.Everything() does. */
export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  return matchesRequirements(selector.requirements, labels);
}

export const isEmptySelector = (selector: LabelSelector): boolean => selector.requirements.length === 0;

/** Splits on commas that are not inside a `( ... )` value set. */
function splitClauses(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  if (depth !== 0) fail(text);
  const clauses = out.map((c) => c.trim());
  if (clauses.length === 1 && clauses[0] === '') return [];
  if (clauses.some((c) => c === '')) fail(text);
  return clauses;
}

function fail(text: string, why = 'invalid selector'): never {
  throw new BadRequestError(`unable to parse requirement: ${why}: "${text}"`);
}

function parseClause(clause: string): LabelRequirement {
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(clause);
  if (set) {
    const key = checkKey(set[1] ?? '');
    const values = (set[3] ?? '').split(',').map((v) => checkValue(v.trim()));
    return { key, op: set[2] === 'in' ? 'in' : 'notin', values };
  }
  if (clause.startsWith('!')) {
    const key = clause.slice(1).trim();
    if (/[=\s]/.test(key)) fail(clause);
    return { key: checkKey(key), op: 'notexists' };
  }
  const eq = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(clause);
  if (eq) {
    const key = checkKey(eq[1] ?? '');
    const value = checkValue(eq[3] ?? '');
    return { key, op: eq[2] === '!=' ? 'notin' : 'in', values: [value] };
  }
  if (/^[^=!\s()<>]+$/.test(clause)) return { key: checkKey(clause), op: 'exists' };
  return fail(clause);
}

function checkKey(key: string): string {
  const errs = checkQualifiedName(key);
  if (errs.length) fail(key, `key: Invalid value: "${key}": ${errs.join('; ')}`);
  return key;
}

function checkValue(value: string): string {
  const errs = checkLabelValue(value);
  if (errs.length) fail(value, `values[0]: Invalid value: "${value}": ${errs.join('; ')}`);
  return value;
}

const SAFE_TEXT = /^[A-Za-z0-9._/-]+$/;

/**
 * A cheap test on an object's stored JSON (compact JSON.stringify output) that every object whose
 * labels match `selector` passes: each `key=value` term must appear as `"key":"value"`. Lists use it
 * to skip parsing objects that cannot match (a `kubectl get pods -l app=x` among 100,000 pods);
 * what passes is still checked with matchesLabels. Undefined when no term allows it.
 */
export function rawLabelPrefilter(selector: LabelSelector): ((json: string) => boolean) | undefined {
  const needles: string[] = [];
  for (const r of selector.requirements) {
    if (r.op === 'in' && r.values.length === 1 && SAFE_TEXT.test(r.key) && SAFE_TEXT.test(r.values[0]!)) needles.push(`"${r.key}":"${r.values[0]}"`);
  }
  if (needles.length === 0) return undefined;
  return (json) => needles.every((needle) => json.includes(needle));
}
