// What every caller may read, signed in or not, like the default system:public-info-viewer and
// system:discovery roles: health probes and /version for anyone; discovery and OpenAPI documents for
// authenticated users that are not nodes (node identities are confined by the node authorizer).
import { allow, noOpinion, type Authorizer } from './authorizer.js';
import { ANONYMOUS_USER } from '../api-user.js';

export const publicPaths: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/livez', '/version']);

const isDiscoveryPath = (path: string) =>
  path === '/api' || path === '/apis' || path === '/openapi/v3' || path === '/openapi/v2'
  || /^\/api\/[^/]+$/.test(path) || /^\/apis\/[^/]+(\/[^/]+)?$/.test(path) || path.startsWith('/openapi/v3/');

export const publicInfoAuthorizer: Authorizer = {
  name: 'public-info',
  authorize(a) {
    if (a.kind !== 'non-resource' || a.verb !== 'get') return noOpinion();
    if (publicPaths.has(a.path)) return allow();
    if (a.user.name !== ANONYMOUS_USER && isDiscoveryPath(a.path)) return allow();
    return noOpinion();
  },
};
