// The monitoring identity (DATA_DIR/metrics-token, group system:monitoring) reads Prometheus metrics
// and nothing else: the control plane's /metrics and agents' through nodes/NAME/proxy/metrics, as a
// Prometheus ServiceAccount is granted them with RBAC (get on the non-resource URL /metrics and on
// nodes/proxy). Everything else it asks for, discovery included, is denied here (health probes and
// /version stay public, as for anyone).
import { allow, deny, noOpinion, type Authorizer } from './authorizer.js';
import { publicPaths } from './public-info-authorizer.js';

export const MONITORING_GROUP = 'system:monitoring';
export const MONITORING_USER = 'system:skiff:metrics';

export const monitoringUser = () => ({ name: MONITORING_USER, groups: [MONITORING_GROUP] });

export const monitoringAuthorizer: Authorizer = {
  name: 'monitoring',
  authorize(a) {
    if (!(a.user.groups ?? []).includes(MONITORING_GROUP)) return noOpinion();
    if (a.kind === 'non-resource' && a.verb === 'get' && a.path === '/metrics') return allow();
    if (a.kind === 'non-resource' && a.verb === 'get' && publicPaths.has(a.path)) return noOpinion();
    if (a.kind === 'resource' && a.verb === 'get' && a.apiGroup === '' && a.resource === 'nodes' && a.subresource === 'proxy' && a.name !== '') return allow();
    return deny('monitoring credentials only read metrics');
  },
};
