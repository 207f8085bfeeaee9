// Writes the bootstrap RBAC policy at control-plane start: missing roles and bindings are created;
// existing ones are brought back to the default unless annotated rbac.authorization.kubernetes.io/
// autoupdate: "false" (kube-apiserver's reconciliation), so a new release's rules reach old clusters.
// An aggregated role's rules are the aggregation controller's, not compared here.
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { ClusterRole } from './kinds/rbac.js';
import { AUTOUPDATE_ANNOTATION, bootstrapClusterRoleBindings, bootstrapClusterRoles } from './rbac-bootstrap-policy.js';
import type { ResourceStore } from './resource-store.js';
import { resourceTypes, type ResourceType } from './resource-types.js';
import { stableStringify } from './stable-stringify.js';

const policyFields = (type: ResourceType, o: KubeObject) =>
  (type === resourceTypes.clusterroles
    ? ((o as ClusterRole).aggregationRule ? { aggregationRule: o['aggregationRule'] } : { rules: o['rules'] })
    : { roleRef: o['roleRef'], subjects: o['subjects'] });

async function reconcile(resources: ResourceStore, type: ResourceType, wanted: KubeObject): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    let current: KubeObject;
    try {
      current = await resources.get(type, undefined, wanted.metadata.name!);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      try {
        await resources.create(type, wanted);
        return;
      } catch (e) {
        if (e instanceof AlreadyExistsError) continue;
        throw e;
      }
    }
    if (current.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') return;
    if (stableStringify(policyFields(type, current)) === stableStringify(policyFields(type, wanted))) return;
    try {
      await resources.update(type, { ...current, ...policyFields(type, wanted) });
      return;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
}

export async function ensureBootstrapRbac(resources: ResourceStore): Promise<void> {
  for (const role of bootstrapClusterRoles()) await reconcile(resources, resourceTypes.clusterroles, role);
  for (const binding of bootstrapClusterRoleBindings()) await reconcile(resources, resourceTypes.clusterrolebindings, binding);
}
