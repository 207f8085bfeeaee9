// The namespaces and system priority classes every cluster starts with, created on first start and left alone afterwards.
// Each initial namespace gets its `default` ServiceAccount at once (the real cluster's controller
// creates them a moment after start): a pod in `default` is never refused for want of it, even where
// no ServiceAccount controller runs (the API alone, tests). Namespaces created later get theirs from
// the controller (docs/decisions/059).
import { AlreadyExistsError } from '../../api/errors.js';
import type { Namespace } from '../../api/types/node.js';
import type { ServiceAccount } from './kinds/config.js';
import type { ResourceStore } from './resource-store.js';
import { systemPriorityClasses } from './priority-admission.js';
import { resourceTypes } from './resource-types.js';

export const initialNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

export async function ensureInitialNamespaces(resources: ResourceStore): Promise<void> {
  for (const name of initialNamespaces) {
    const ns: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
    await resources.create(resourceTypes.namespaces, ns).catch((err: unknown) => {
      if (!(err instanceof AlreadyExistsError)) throw err;
    });
    const sa: ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } };
    await resources.create(resourceTypes.serviceaccounts, sa).catch((err: unknown) => {
      if (!(err instanceof AlreadyExistsError)) throw err;
    });
  }
}

/** system-cluster-critical and system-node-critical, as the real server's post-start hook creates them. */
export async function ensureSystemPriorityClasses(resources: ResourceStore): Promise<void> {
  for (const pc of systemPriorityClasses) {
    await resources.create(resourceTypes.priorityclasses, pc).catch((err: unknown) => {
      if (!(err instanceof AlreadyExistsError)) throw err;
    });
  }
}
