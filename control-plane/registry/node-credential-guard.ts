// Nodes authenticate to the HTTPS API with the node token only to fetch component blobs; every other
// path is for users (the admin kubeconfig). Mounted behind the API's authentication.
import type { MiddlewareHandler } from 'hono';
import { ForbiddenError } from '../../api/errors.js';

export const nodeCredentialGuard: MiddlewareHandler = async (c, next) => {
  const user = c.get('user') as { name: string; groups?: string[] } | undefined;
  if (user?.groups?.includes('system:nodes') && !(c.req.method === 'GET' && c.req.path.startsWith('/registry/v1/blobs/'))) {
    throw new ForbiddenError(`User "${user.name}" cannot ${c.req.method.toLowerCase()} ${c.req.path}: node credentials only fetch components`);
  }
  return next();
};
