// The authorizer chain skiff runs: system:masters, then node confinement, then public information.
// RBAC (issue 14) joins as one more link after the node authorizer, as kube-apiserver's Node,RBAC.
import { unionAuthorizer, type Authorizer } from './authorizer.js';
import { nodeAuthorizer } from './node-authorizer.js';
import { privilegedGroupAuthorizer } from './privileged-group-authorizer.js';
import { publicInfoAuthorizer } from './public-info-authorizer.js';

export function clusterAuthorizer(more: readonly Authorizer[] = []): Authorizer {
  return unionAuthorizer([privilegedGroupAuthorizer, nodeAuthorizer, ...more, publicInfoAuthorizer]);
}
