// Parses /api/v1/... and /apis/{group}/{version}/... into a resource target (type, namespace, name, subresource).
import { findResource, type ResourceType } from '../resources/resource-types.js';
import { RouteNotFoundError } from './route-not-found-error.js';

export interface ResourceTarget {
  type: ResourceType;
  /** Set for namespaced paths (`/namespaces/{ns}/...`); absent for cluster-wide collections. */
  namespace?: string;
  name?: string;
  subresource?: string;
  /** Legacy `/watch/` path prefix. */
  watchPath: boolean;
}

/** `segments` are the decoded path parts after the group/version, e.g. ["namespaces","default","pods","web"]. */
export function parseResourcePath(group: string, version: string, segments: readonly string[]): ResourceTarget {
  const parts = [...segments];
  const watchPath = parts[0] === 'watch';
  if (watchPath) parts.shift();
  if (parts[0] === 'namespaces' && parts.length >= 3) {
    const type = findResource(group, version, parts[2] ?? '');
    if (type?.namespaced) {
      if (parts.length > 5) throw new RouteNotFoundError();
      return finish({ type, namespace: parts[1], name: parts[3], subresource: parts[4], watchPath });
    }
  }
  const type = findResource(group, version, parts[0] ?? '');
  if (!type || parts.length > 3) throw new RouteNotFoundError();
  // A namespaced kind without a namespace is only a cluster-wide collection.
  if (type.namespaced && parts.length > 1) throw new RouteNotFoundError();
  return finish({ type, name: parts[1], subresource: parts[2], watchPath });
}

function finish(target: ResourceTarget): ResourceTarget {
  if (target.subresource !== undefined && !target.type.subresources.includes(target.subresource)) throw new RouteNotFoundError();
  if (target.name === undefined) delete target.name;
  if (target.subresource === undefined) delete target.subresource;
  return target;
}
