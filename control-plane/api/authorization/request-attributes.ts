// What an authorizer decides on, parsed from any request as Kubernetes' RequestInfoFactory does:
// resource requests (/api/v1/..., /apis/GROUP/VERSION/...) name a verb, group, resource, subresource,
// namespace and name, whether or not the resource exists; everything else is a non-resource path.
import type { ApiUser } from '../api-user.js';

export interface ResourceAttributes {
  kind: 'resource';
  user: ApiUser;
  verb: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

export interface NonResourceAttributes {
  kind: 'non-resource';
  user: ApiUser;
  /** get, post, put, patch, delete (the lower-cased method; HEAD is get). */
  verb: string;
  path: string;
}

export type RequestAttributes = ResourceAttributes | NonResourceAttributes;

/** Subresources that open a stream into a running pod: always `create`, whatever the method. */
export const connectSubresources: ReadonlySet<string> = new Set(['exec', 'attach', 'portforward', 'proxy']);

/** Namespace subresources (the namespace itself is the object). */
const namespaceSubresources = new Set(['status', 'finalize']);

/**
 * `segments` are the request path's decoded segments; `watchParam` whether ?watch=true|1 was given.
 */
export function requestAttributes(user: ApiUser, method: string, segments: readonly string[], watchParam: boolean): RequestAttributes {
  const m = method.toUpperCase();
  const nonResource = (): NonResourceAttributes =>
    ({ kind: 'non-resource', user, verb: m === 'HEAD' ? 'get' : m.toLowerCase(), path: `/${segments.join('/')}` });
  let parts: string[];
  let apiGroup = '';
  let apiVersion: string;
  if (segments[0] === 'api' && segments.length >= 3) {
    apiVersion = segments[1]!;
    parts = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 4) {
    apiGroup = segments[1]!;
    apiVersion = segments[2]!;
    parts = segments.slice(3);
  } else {
    return nonResource();
  }
  let verb = httpVerb(m);
  if (parts[0] === 'watch') {
    verb = 'watch';
    parts = parts.slice(1);
    if (parts.length === 0) return nonResource();
  }
  let namespace = '';
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1]!;
    if (parts.length > 2 && !namespaceSubresources.has(parts[2]!)) parts = parts.slice(2);
  }
  const resource = parts[0] ?? '';
  const name = parts[1] ?? '';
  const subresource = parts[2] ?? '';
  if (verb === 'get' && !name) verb = watchParam ? 'watch' : 'list';
  if (verb === 'get' && watchParam && name) verb = 'watch';
  if (verb === 'delete' && !name) verb = 'deletecollection';
  if (connectSubresources.has(subresource) && subresource !== 'proxy') verb = 'create';
  return { kind: 'resource', user, verb, apiGroup, apiVersion, resource, subresource, namespace, name };
}

function httpVerb(method: string): string {
  switch (method) {
    case 'GET': case 'HEAD': return 'get';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return 'delete';
    default: return method.toLowerCase();
  }
}

/** "pods/exec", "deployments", ... as RBAC rules and Forbidden messages name them. */
export const resourceWithSubresource = (a: ResourceAttributes): string => (a.subresource ? `${a.resource}/${a.subresource}` : a.resource);
