// Validation of the RBAC kinds as the real API server's rbac/validation: rules need verbs and either
// resources (with apiGroups) or nonResourceURLs (cluster roles only); bindings need a roleRef to a
// Role or ClusterRole (immutable) and well-formed subjects.
import type { StatusCause } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import { forbidden, invalid, notSupported, required } from './field-causes.js';
import type { ClusterRole, PolicyRule, RoleBinding, Subject } from './kinds/rbac.js';
import { RBAC_GROUP } from './kinds/rbac.js';
import { checkPathSegmentName } from './metadata-validation.js';
import { validateLabelSelector } from './selector-object.js';
import { checkDns1123Label, checkDns1123Subdomain } from './name-validation.js';

const maxRules = 1000;
const maxSubjects = 1000;

function validateRules(rules: unknown, field: string, clusterScoped: boolean): StatusCause[] {
  if (rules === undefined || rules === null) return [];
  if (!Array.isArray(rules)) return [invalid(field, rules, 'must be a list of rules')];
  if (rules.length > maxRules) return [{ field, reason: 'FieldValueTooMany', message: `Too many: ${rules.length}: must have at most ${maxRules} items` }];
  return rules.flatMap((rule: PolicyRule, i) => validateRule(rule, `${field}[${i}]`, clusterScoped));
}

function validateRule(rule: PolicyRule, field: string, clusterScoped: boolean): StatusCause[] {
  if (!rule || typeof rule !== 'object') return [invalid(field, rule, 'must be a policy rule')];
  const causes: StatusCause[] = [];
  if (!rule.verbs?.length) causes.push(required(`${field}.verbs`, 'verbs must contain at least one value'));
  const urls = rule.nonResourceURLs ?? [];
  if (urls.length > 0) {
    if (!clusterScoped) causes.push(invalid(`${field}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'));
    if (rule.apiGroups?.length || rule.resources?.length) {
      causes.push(invalid(`${field}.nonResourceURLs`, urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    urls.forEach((u, j) => {
      if (typeof u !== 'string' || !(u === '*' || u.startsWith('/'))) causes.push(invalid(`${field}.nonResourceURLs[${j}]`, u, 'must start with "/" or be "*"'));
      else if (u.includes('*') && !(u.endsWith('*') && u.indexOf('*') === u.length - 1)) causes.push(invalid(`${field}.nonResourceURLs[${j}]`, u, '"*" may only end a non-resource URL'));
    });
    return causes;
  }
  if (!rule.apiGroups?.length) causes.push(required(`${field}.apiGroups`, 'resource rules must supply at least one api group'));
  if (!rule.resources?.length) causes.push(required(`${field}.resources`, 'resource rules must supply at least one resource'));
  return causes;
}

export function validateRole(obj: KubeObject): StatusCause[] {
  return validateRules(obj['rules'], 'rules', false);
}

export function validateClusterRole(obj: KubeObject): StatusCause[] {
  const role = obj as ClusterRole;
  const causes = validateRules(role.rules, 'rules', true);
  const agg = role.aggregationRule;
  if (agg !== undefined && agg !== null) {
    if (typeof agg !== 'object') return [...causes, invalid('aggregationRule', agg, 'must be an object')];
    const selectors = agg.clusterRoleSelectors ?? [];
    if (selectors.length === 0) causes.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    selectors.forEach((s, i) => causes.push(...validateLabelSelector(s, `aggregationRule.clusterRoleSelectors[${i}]`)));
  }
  return causes;
}

function validateBinding(obj: KubeObject, namespaced: boolean): StatusCause[] {
  const b = obj as RoleBinding;
  const causes: StatusCause[] = [];
  const ref = b.roleRef;
  if (!ref || typeof ref !== 'object') {
    causes.push(required('roleRef'));
  } else {
    if (ref.apiGroup !== RBAC_GROUP) causes.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]));
    const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
    if (!kinds.includes(ref.kind)) causes.push(notSupported('roleRef.kind', ref.kind ?? '', kinds));
    if (!ref.name) causes.push(required('roleRef.name'));
    else for (const m of checkPathSegmentName(ref.name)) causes.push(invalid('roleRef.name', ref.name, m));
  }
  const subjects = b.subjects ?? [];
  if (!Array.isArray(subjects)) return [...causes, invalid('subjects', subjects, 'must be a list of subjects')];
  if (subjects.length > maxSubjects) return [...causes, { field: 'subjects', reason: 'FieldValueTooMany', message: `Too many: ${subjects.length}: must have at most ${maxSubjects} items` }];
  subjects.forEach((s, i) => causes.push(...validateSubject(s, `subjects[${i}]`, namespaced)));
  return causes;
}

function validateSubject(s: Subject, field: string, namespacedBinding: boolean): StatusCause[] {
  if (!s || typeof s !== 'object') return [invalid(field, s, 'must be a subject')];
  const causes: StatusCause[] = [];
  if (!s.name) causes.push(required(`${field}.name`));
  switch (s.kind) {
    case 'ServiceAccount':
      if (s.name) for (const m of checkDns1123Subdomain(s.name)) causes.push(invalid(`${field}.name`, s.name, m));
      if (s.apiGroup) causes.push(notSupported(`${field}.apiGroup`, s.apiGroup, ['']));
      if (!namespacedBinding && !s.namespace) causes.push(required(`${field}.namespace`));
      if (s.namespace) for (const m of checkDns1123Label(s.namespace)) causes.push(invalid(`${field}.namespace`, s.namespace, m));
      break;
    case 'User': case 'Group':
      if (s.apiGroup !== RBAC_GROUP) causes.push(notSupported(`${field}.apiGroup`, s.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      causes.push(notSupported(`${field}.kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return causes;
}

export const validateRoleBinding = (obj: KubeObject): StatusCause[] => validateBinding(obj, true);
export const validateClusterRoleBinding = (obj: KubeObject): StatusCause[] => validateBinding(obj, false);

/** roleRef cannot change: delete and recreate the binding instead. */
export function validateBindingUpdate(oldObj: KubeObject, newObj: KubeObject): StatusCause[] {
  const a = (oldObj as RoleBinding).roleRef;
  const b = (newObj as RoleBinding).roleRef;
  if (a && b && (a.apiGroup !== b.apiGroup || a.kind !== b.kind || a.name !== b.name)) return [forbidden('roleRef', 'cannot change roleRef')];
  return [];
}
