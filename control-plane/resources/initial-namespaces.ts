// The namespaces and system priority classes every cluster starts with, created on first start and left alone afterwards.
import { AlreadyExistsError } from '../../api/errors.js';
import type { Namespace } from '../../api/types/node.js';
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
