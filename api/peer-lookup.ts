// On-demand peers (decision 043): beyond 1,000 nodes an agent's peers part holds only the nodes that
// run Service endpoints, so an agent asks the control plane which node owns a pod IP it has no
// peer for: GET /skiff/v1/peers?ip=POD_IP with its node credential. The answer is that node's
// peer entry (the desired state's DesiredPeer: name, pod CIDR, tunnel address and port), or 404.
import * as v from 'valibot';
import { desiredPeer } from './mqtt/messages.js';

export const PEER_LOOKUP_PATH = '/skiff/v1/peers';

/** The answer of a found owner: exactly one peer entry. */
export const peerLookupAnswer = v.object({ peer: desiredPeer });
export type PeerLookupAnswer = v.InferOutput<typeof peerLookupAnswer>;
