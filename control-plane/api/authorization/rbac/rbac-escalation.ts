// Privilege escalation prevention on the RBAC kinds, as the real API server: writing a Role or
// ClusterRole needs every permission it grants (or the `escalate` verb on it); writing a binding needs
// every permission of the role it binds (or the `bind` verb on that role). Only system:masters (or
// escalate) may set an aggregationRule, which would pull in rules from any labelled ClusterRole.
import type { Context } from 'hono';
import { ForbiddenError } from '../../../../api/errors.js';
import type { KubeObject } from '../../../../api/types/meta.js';
import type { ClusterRole, PolicyRule, RoleBinding } from '../../../resources/kinds/rbac.js';
import { RBAC_GROUP } from '../../../resources/kinds/rbac.js';
import type { ResourceType } from '../../../resources/resource-types.js';
import type { ApiUser } from '../../api-user.js';
import type { Authorizer } from '../authorizer.js';
import { rulesFor, type RbacPolicySource } from './rbac-authorizer.js';
import { uncoveredRules } from './rbac-rules.js';

export type Admit = (c: Context, type: ResourceType, obj: KubeObject) => Promise<void>;

const RBAC_PLURALS = new Set(['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings']);

const showRule = (r: PolicyRule) => (r.nonResourceURLs
  ? `{NonResourceURLs:${JSON.stringify(r.nonResourceURLs)}, Verbs:${JSON.stringify(r.verbs)}}`
  : `{APIGroups:${JSON.stringify(r.apiGroups)}, Resources:${JSON.stringify(r.resources)}${r.resourceNames ? `, ResourceNames:${JSON.stringify(r.resourceNames)}` : ''}, Verbs:${JSON.stringify(r.verbs)}}`);

export function rbacEscalationCheck(source: RbacPolicySource, authorizer: Authorizer): Admit {
  const may = async (user: ApiUser, verb: string, resource: string, namespace: string, name: string) =>
    (await authorizer.authorize({ kind: 'resource', user, verb, apiGroup: RBAC_GROUP, apiVersion: 'v1', resource, subresource: '', namespace, name })).decision === 'allow';

  const refuse = (type: ResourceType, obj: KubeObject, user: ApiUser, why: string) => new ForbiddenError(
    `${type.plural}.${RBAC_GROUP} ${JSON.stringify(obj.metadata.name ?? '')} is forbidden: user ${JSON.stringify(user.name)} (groups=${JSON.stringify(user.groups ?? [])}) ${why}`,
    { group: RBAC_GROUP, kind: type.plural, ...(obj.metadata.name ? { name: obj.metadata.name } : {}) },
  );

  const checkGrant = (type: ResourceType, obj: KubeObject, user: ApiUser, namespace: string, rules: readonly PolicyRule[]) => {
    const missing = uncoveredRules(rulesFor(source, user, namespace), rules);
    if (missing.length === 0) return;
    const shown = missing.slice(0, 20).map(showRule).join('\n');
    throw refuse(type, obj, user, `is attempting to grant RBAC permissions not currently held:\n${shown}${missing.length > 20 ? `\n... and ${missing.length - 20} more` : ''}`);
  };

  return async (c, type, obj) => {
    if (type.group !== RBAC_GROUP || !RBAC_PLURALS.has(type.plural)) return;
    const user = c.get('user');
    const namespace = type.namespaced ? obj.metadata.namespace ?? '' : '';
    const name = obj.metadata.name ?? '';
    if (type.plural === 'roles' || type.plural === 'clusterroles') {
      if (await may(user, 'escalate', type.plural, namespace, name)) return;
      if ((obj as ClusterRole).aggregationRule) throw refuse(type, obj, user, 'must have the escalate verb (cluster-admin privileges) to use an aggregationRule');
      checkGrant(type, obj, user, namespace, (obj as ClusterRole).rules ?? []);
      return;
    }
    const ref = (obj as RoleBinding).roleRef;
    if (!ref?.name) return; // validation answers
    const roleResource = ref.kind === 'Role' ? 'roles' : 'clusterroles';
    // asked in the binding's namespace, as BindingAuthorized: a namespaced grant of bind works for RoleBindings there
    if (await may(user, 'bind', roleResource, namespace, ref.name)) return;
    const role = ref.kind === 'Role' ? source.role(namespace, ref.name) : source.clusterRole(ref.name);
    if (!role) throw refuse(type, obj, user, `cannot bind ${ref.kind} ${JSON.stringify(ref.name)}: it does not exist and the user may not bind it`);
    checkGrant(type, obj, user, namespace, role.rules ?? []);
  };
}
