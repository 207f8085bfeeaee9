// The RBAC authorizer (decision 007's chain, after the node authorizer): a request is allowed when a
// ClusterRoleBinding, or a RoleBinding in the request's namespace, binds the user (or one of their
// groups, or their ServiceAccount) to a role with a rule that allows it. Otherwise no opinion: RBAC
// never denies, as in Kubernetes.
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding } from '../../../resources/kinds/rbac.js';
import type { ApiUser } from '../../api-user.js';
import { allow, noOpinion, type Authorizer } from '../authorizer.js';
import type { RequestAttributes } from '../request-attributes.js';
import { ruleAllows, subjectMatches } from './rbac-rules.js';

/** What the authorizer reads: the four RBAC kinds, kept current (rbac-cache.ts). */
export interface RbacPolicySource {
  clusterRoleBindings(): Iterable<ClusterRoleBinding>;
  roleBindings(namespace: string): Iterable<RoleBinding>;
  role(namespace: string, name: string): Role | undefined;
  clusterRole(name: string): ClusterRole | undefined;
}

interface Grant {
  binding: string;
  role: string;
  rules: readonly PolicyRule[];
}

/** Every grant that applies to `user` in `namespace` ('' = cluster-wide bindings only). */
export function* grantsFor(source: RbacPolicySource, user: ApiUser, namespace: string): Generator<Grant> {
  for (const b of source.clusterRoleBindings()) {
    if (b.roleRef?.kind !== 'ClusterRole' || !(b.subjects ?? []).some((s) => subjectMatches(s, user, ''))) continue;
    const role = source.clusterRole(b.roleRef.name);
    if (role) yield { binding: `ClusterRoleBinding "${b.metadata.name}"`, role: `ClusterRole "${role.metadata.name}"`, rules: role.rules ?? [] };
  }
  if (!namespace) return;
  for (const b of source.roleBindings(namespace)) {
    if (!(b.subjects ?? []).some((s) => subjectMatches(s, user, namespace))) continue;
    const role = b.roleRef?.kind === 'Role' ? source.role(namespace, b.roleRef.name) : b.roleRef?.kind === 'ClusterRole' ? source.clusterRole(b.roleRef.name) : undefined;
    if (role) yield { binding: `RoleBinding "${namespace}/${b.metadata.name}"`, role: `${role.kind} "${role.metadata.name}"`, rules: role.rules ?? [] };
  }
}

/** The rules `user` holds in `namespace` (cluster-wide ones included), as SelfSubjectRulesReview lists them. */
export function rulesFor(source: RbacPolicySource, user: ApiUser, namespace: string): PolicyRule[] {
  return [...grantsFor(source, user, namespace)].flatMap((g) => g.rules);
}

export function rbacAuthorizer(source: RbacPolicySource): Authorizer {
  return {
    name: 'rbac',
    authorize(a: RequestAttributes) {
      const namespace = a.kind === 'resource' ? a.namespace : '';
      for (const grant of grantsFor(source, a.user, namespace)) {
        if (grant.rules.some((r) => ruleAllows(a, r))) return allow(`RBAC: allowed by ${grant.binding} of ${grant.role} to ${a.user.name}`);
      }
      return noOpinion();
    },
  };
}
