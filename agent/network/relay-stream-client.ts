// The sending end of raw TCP by relay (api/mqtt/relay.ts, decision 038): an upgraded HTTPS request
// to the control plane's API with this node's credential; once node B's pod took the connection
// (101), frames both ways over it, as on the tunnel (api/net/framed-stream.ts).
import { request as httpsRequest, type Agent } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { relayStreamPath } from '../../api/mqtt/relay.js';
import { PodNetworkError } from '../../runtime/pod-runtime.js';
import type { ApiAccess } from '../credentials/node-certificate.js';
import { isErrorCode } from './tunnel-protocol.js';
import { streamUpgradeHeaders, TCP_UPGRADE, type TunnelStreamTarget } from './tunnel-tcp.js';
import { settleUpgrade } from './upgrade-request.js';

/** How long the control plane and node B may take to accept a relayed connection. */
const OPEN_TIMEOUT_MS = 15_000;

export function openRelayStream(api: ApiAccess | undefined, token: string, agent: Agent, target: TunnelStreamTarget): Promise<Duplex> {
  const { peer, podIP, port } = target;
  const unavailable = (message: string) => new PodNetworkError('destination-unavailable', `dial tcp ${podIP}:${port} on node ${peer.node} by relay: ${message}`);
  if (!api) return Promise.reject(unavailable('the control plane (relay) is not known yet'));
  let req;
  try {
    const url = new URL(relayStreamPath(peer.node), api.url);
    req = httpsRequest(url, {
      method: 'POST', agent, ...(isIP(url.hostname) ? { servername: '' } : {}), ...(api.caCert ? { ca: api.caCert } : {}),
      headers: {
        authorization: `Bearer ${token}`, connection: 'Upgrade', upgrade: TCP_UPGRADE, ...streamUpgradeHeaders(target),
      },
    });
  } catch (error) {
    return Promise.reject(unavailable((error as Error).message));
  }
  return settleUpgrade(req, {
    timeoutMs: OPEN_TIMEOUT_MS,
    onTimeout: () => unavailable(`not accepted within ${OPEN_TIMEOUT_MS} ms`),
    refused: (res, text, cut) => {
      if (cut) return unavailable(cut.message);
      let error: { code?: unknown; message?: unknown } | undefined;
      try {
        error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
      } catch {
        error = undefined;
      }
      if (error && typeof error === 'object' && isErrorCode(error.code)) {
        return new PodNetworkError(error.code, `node ${peer.node} (relay): ${String(error.message).slice(0, 500)}`);
      }
      return unavailable(`the control plane answered ${res.statusCode}: ${text.slice(0, 300)}`);
    },
    failed: (error) => unavailable(error.message),
  });
}
