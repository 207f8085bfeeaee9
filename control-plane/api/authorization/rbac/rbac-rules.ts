// RBAC rule semantics, as k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac: which request a PolicyRule
// allows, which user a binding's subject names, and whether one set of rules covers another (the
// escalation check for writes to roles and bindings).
import type { PolicyRule, Subject } from '../../../resources/kinds/rbac.js';
import type { ApiUser } from '../../api-user.js';
import type { RequestAttributes } from '../request-attributes.js';

export const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

const has = (list: readonly string[] | undefined, value: string) => (list ?? []).some((v) => v === '*' || v === value);

function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some((r) => r === '*' || r === combined || (subresource !== '' && (r === `*/${subresource}` || r === `${resource}/*`)));
}

function urlMatches(patterns: readonly string[], path: string): boolean {
  return patterns.some((p) => p === '*' || p === path || (p.endsWith('*') && path.startsWith(p.slice(0, -1))));
}

/** Whether `rule` allows the request. */
export function ruleAllows(a: RequestAttributes, rule: PolicyRule): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (a.kind === 'non-resource') return urlMatches(rule.nonResourceURLs ?? [], a.path);
  if (!has(rule.apiGroups, a.apiGroup) || !resourceMatches(rule, a.resource, a.subresource)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (a.name !== '' && names.includes(a.name));
}

/** Whether a binding's subject is this user (ServiceAccounts without a namespace are the binding's). */
export function subjectMatches(s: Subject, user: ApiUser, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User': return s.name === user.name;
    case 'Group': return (user.groups ?? []).includes(s.name);
    case 'ServiceAccount': return user.name === `${SERVICE_ACCOUNT_PREFIX}${s.namespace || bindingNamespace}:${s.name}`;
    default: return false;
  }
}

/** The ServiceAccount a user name is, if any. */
export function serviceAccountOf(userName: string): { namespace: string; name: string } | undefined {
  if (!userName.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const [namespace, name, ...rest] = userName.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
  return namespace && name && rest.length === 0 ? { namespace, name } : undefined;
}

const coversOne = (owner: readonly string[] | undefined, wanted: string) => (owner ?? []).some((o) => o === '*' || o === wanted);

/**
 * Whether `owned` rules grant everything `wanted` does (ConfirmNoEscalation): each wanted rule is split
 * into single verb/group/resource/name (or verb/URL) grants, and each must be allowed by an owned rule.
 * A wildcard in a wanted rule is covered only by the same wildcard. Returns the grants that are not.
 */
export function uncoveredRules(owned: readonly PolicyRule[], wanted: readonly PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const rule of wanted) {
    for (const verb of rule.verbs ?? []) {
      for (const url of rule.nonResourceURLs ?? []) {
        const ok = owned.some((o) => coversOne(o.verbs, verb) && (o.nonResourceURLs ?? []).some((p) => p === '*' || p === url || (p.endsWith('*') && url.startsWith(p.slice(0, -1)))));
        if (!ok) missing.push({ verbs: [verb], nonResourceURLs: [url] });
      }
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          const names = rule.resourceNames?.length ? rule.resourceNames : [''];
          for (const name of names) {
            const ok = owned.some((o) => coversOne(o.verbs, verb) && coversOne(o.apiGroups, group)
              && coversResource(o.resources, resource)
              && (!(o.resourceNames?.length) || (name !== '' && o.resourceNames.includes(name))));
            if (!ok) missing.push({ verbs: [verb], apiGroups: [group], resources: [resource], ...(name ? { resourceNames: [name] } : {}) });
          }
        }
      }
    }
  }
  return missing;
}

function coversResource(owner: readonly string[] | undefined, wanted: string): boolean {
  const [resource, subresource] = wanted.split('/', 2) as [string, string | undefined];
  return (owner ?? []).some((o) => o === '*' || o === wanted || (subresource !== undefined && (o === `${resource}/*` || o === `*/${subresource}`)));
}
