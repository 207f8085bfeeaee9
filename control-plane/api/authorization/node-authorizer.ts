// Node identities are confined here, whatever later authorizers (RBAC) would grant. skiff agents do
// over MQTT everything a kubelet does over HTTPS, so on the API a node's credential only fetches
// component blobs, requests its own TLS certificate, relays pod traffic to nodes it cannot reach (api/mqtt/relay.ts), looks up the node of a pod IP (api/peer-lookup.ts), and asks TokenRequest for the ServiceAccount
// tokens projected into its pods (the handler then checks, as NodeRestriction does, that the token is
// bound to a pod of this node that runs as that ServiceAccount), and the bootstrap token only
// exchanges itself for a node credential. Both may review themselves (whoami, can-i, can-i --list,
// which then says the list is incomplete: these rules are not RBAC's), as every authenticated user.
// Everything else, exec/attach/portforward/proxy into pods above all, is denied outright.
import { allow, deny, noOpinion, type Authorizer } from './authorizer.js';
import type { RequestAttributes } from './request-attributes.js';
import { NODE_USER_PREFIX, NODES_GROUP } from '../../../api/node-identity.js';

export { NODE_USER_PREFIX, NODES_GROUP };
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';
/** The API user of the cluster's bootstrap node token. */
export const BOOTSTRAP_API_USER = 'system:node-bootstrap';

export const nodeUser = (node: string) => ({ name: `${NODE_USER_PREFIX}${node}`, groups: [NODES_GROUP] });
export const bootstrapUser = () => ({ name: BOOTSTRAP_API_USER, groups: [BOOTSTRAPPERS_GROUP] });

const BLOB_PATH = /^\/registry\/v1\/blobs\/[^/]+$/;
const CREDENTIAL_PATH = /^\/skiff\/v1\/node-credentials\/[^/]+$/;
const CERTIFICATE_PATH = /^\/skiff\/v1\/node-certificates\/([^/]+)$/;
const RELAY_PATH = /^\/skiff\/v1\/relay\/[^/]+(?:\/tcp|\/udp)?$/;
const PEERS_PATH = '/skiff/v1/peers';

export const nodeAuthorizer: Authorizer = {
  name: 'node',
  authorize(a) {
    const groups = a.user.groups ?? [];
    if ((groups.includes(NODES_GROUP) || groups.includes(BOOTSTRAPPERS_GROUP)) && isSelfReview(a)) return allow();
    if (groups.includes(NODES_GROUP)) {
      if (!a.user.name.startsWith(NODE_USER_PREFIX)) return deny(`"${a.user.name}" is in ${NODES_GROUP} but is not a node user`);
      if (a.kind === 'non-resource' && a.verb === 'get' && BLOB_PATH.test(a.path)) return allow();
      // pod traffic to another node that this one cannot reach directly (api/mqtt/relay.ts)
      if (a.kind === 'non-resource' && a.verb === 'post' && RELAY_PATH.test(a.path)) return allow();
      // which node owns a pod IP it has no peer for (on-demand peers, api/peer-lookup.ts)
      if (a.kind === 'non-resource' && a.verb === 'get' && a.path === PEERS_PATH) return allow();
      if (a.kind === 'resource' && a.verb === 'create' && a.apiGroup === '' && a.resource === 'serviceaccounts' && a.subresource === 'token' && a.namespace && a.name) return allow();
      const certificateFor = a.kind === 'non-resource' && a.verb === 'post' ? CERTIFICATE_PATH.exec(a.path)?.[1] : undefined;
      if (certificateFor !== undefined) {
        // NodeRestriction: a node gets a certificate for its own name only
        if (`${NODE_USER_PREFIX}${certificateFor}` === a.user.name) return allow();
        return deny(`node ${a.user.name.slice(NODE_USER_PREFIX.length)} may only request its own certificate`);
      }
      return deny(`node credentials only fetch components (${describe(a)} is not for nodes)`);
    }
    if (groups.includes(BOOTSTRAPPERS_GROUP)) {
      if (a.kind === 'non-resource' && a.verb === 'post' && CREDENTIAL_PATH.test(a.path)) return allow();
      return deny('the bootstrap token only requests node credentials');
    }
    return noOpinion();
  },
};

/** A self review: it tells the caller only about itself. */
const SELF_REVIEWS: Record<string, string> = {
  selfsubjectaccessreviews: 'authorization.k8s.io', selfsubjectrulesreviews: 'authorization.k8s.io', selfsubjectreviews: 'authentication.k8s.io',
};
const isSelfReview = (a: RequestAttributes) => a.kind === 'resource' && a.verb === 'create' && a.subresource === ''
  && a.namespace === '' && a.name === '' && SELF_REVIEWS[a.resource] === a.apiGroup;

const describe = (a: RequestAttributes) =>
  (a.kind === 'non-resource' ? `${a.verb} ${a.path}` : `${a.verb} ${a.subresource ? `${a.resource}/${a.subresource}` : a.resource}`);
