// The 403 Status a refused request gets, worded like the real API server's Forbidden errors.
import { ForbiddenError } from '../../../api/errors.js';
import { resourceWithSubresource, type RequestAttributes } from './request-attributes.js';

export function forbiddenError(a: RequestAttributes, reason: string | undefined): ForbiddenError {
  const why = reason ? `: ${reason}` : '';
  const user = `User "${a.user.name}"`;
  if (a.kind === 'non-resource') return new ForbiddenError(`forbidden: ${user} cannot ${a.verb} path "${a.path}"${why}`);
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const subject = a.name ? `${qualified} ${JSON.stringify(a.name)}` : qualified;
  const scope = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return new ForbiddenError(
    `${subject} is forbidden: ${user} cannot ${a.verb} resource "${resourceWithSubresource(a)}" in API group "${a.apiGroup}" ${scope}${why}`,
    { kind: a.resource, ...(a.apiGroup ? { group: a.apiGroup } : {}), ...(a.name ? { name: a.name } : {}) },
  );
}
