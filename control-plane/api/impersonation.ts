// Impersonation (`kubectl --as=NAME --as-group=G`): Impersonate-User, Impersonate-Group, Impersonate-Uid
// and Impersonate-Extra-* headers make the request act as another user, when the caller is allowed the
// `impersonate` verb on each: users/NAME (or serviceaccounts/NAME in its namespace for
// system:serviceaccount:NS:NAME), groups/G, uids and userextras/KEY (authentication.k8s.io). Runs after
// authentication and before authorization, so everything after sees the impersonated user.
import type { MiddlewareHandler } from 'hono';
import { BadRequestError, ForbiddenError } from '../../api/errors.js';
import { ANONYMOUS_USER, withAuthenticatedGroup, type ApiUser } from './api-user.js';
import type { Authorizer } from './authorization/authorizer.js';
import { serviceAccountOf } from './authorization/rbac/rbac-rules.js';
import type { ResourceAttributes } from './authorization/request-attributes.js';

const maxValue = 1024;
const maxGroups = 100;

const split = (v: string | undefined) => (v === undefined ? [] : v.split(',').map((s) => s.trim()).filter(Boolean));

export function impersonation(authorizer: Authorizer): MiddlewareHandler {
  return async (c, next) => {
    const headers = c.req.raw.headers;
    const name = headers.get('impersonate-user') ?? undefined;
    const groups = split(headers.get('impersonate-group') ?? undefined);
    const uid = headers.get('impersonate-uid') ?? undefined;
    const extras = [...headers.keys()].filter((k) => k.startsWith('impersonate-extra-')).map((k) => k.slice('impersonate-extra-'.length));
    if (name === undefined && groups.length === 0 && uid === undefined && extras.length === 0) return next();
    if (name === undefined || name === '') throw new BadRequestError(`requested impersonation of groups ${JSON.stringify(groups)}, uid or extra without impersonating a user`);
    if (name.length > maxValue || groups.length > maxGroups || groups.some((g) => g.length > maxValue)) throw new BadRequestError('impersonation headers are too large');
    const caller: ApiUser = c.get('user');
    const check = async (resource: string, apiGroup: string, resourceName: string, namespace = '') => {
      const a: ResourceAttributes = { kind: 'resource', user: caller, verb: 'impersonate', apiGroup, apiVersion: '', resource, subresource: '', namespace, name: resourceName };
      const d = await authorizer.authorize(a);
      if (d.decision === 'allow') return;
      const qualified = apiGroup ? `${resource}.${apiGroup}` : resource;
      throw new ForbiddenError(`${qualified} ${JSON.stringify(resourceName)} is forbidden: User ${JSON.stringify(caller.name)} cannot impersonate resource ${JSON.stringify(resource)} in API group ${JSON.stringify(apiGroup)} ${namespace ? `in the namespace ${JSON.stringify(namespace)}` : 'at the cluster scope'}`,
        { kind: resource, ...(apiGroup ? { group: apiGroup } : {}), name: resourceName });
    };
    const sa = serviceAccountOf(name);
    if (sa) await check('serviceaccounts', '', sa.name, sa.namespace);
    else await check('users', '', name);
    for (const g of groups) await check('groups', '', g);
    if (uid !== undefined) await check('uids', 'authentication.k8s.io', uid);
    for (const key of extras) await check('userextras', 'authentication.k8s.io', key);
    // as the real server: the impersonated user is authenticated unless it is system:anonymous
    const user: ApiUser = { name, groups: sa ? [...groups, 'system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`] : groups };
    c.set('user', name === ANONYMOUS_USER ? { name, groups: groups.length ? groups : ['system:unauthenticated'] } : withAuthenticatedGroup(user));
    return next();
  };
}
