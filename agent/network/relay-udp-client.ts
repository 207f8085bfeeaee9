// The sending end of UDP by relay (api/mqtt/relay.ts, decision 054 "By relay"): an upgraded HTTPS
// request `POST /skiff/v1/relay/NODE/udp` to the control plane's API with this node's credential,
// opened once per peer node (UdpLinks), then datagram frames one way (api/net/udp-frames.ts), as
// on the tunnel. Replies come over the other node's own link.
import { request as httpsRequest, type Agent } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { DesiredPeer } from '../../api/mqtt/messages.js';
import { relayUdpPath } from '../../api/mqtt/relay.js';
import type { ApiAccess } from '../credentials/node-certificate.js';
import { UDP_UPGRADE } from './udp-tunnel.js';

/** How long the control plane may take to accept a UDP relay link. */
const OPEN_TIMEOUT_MS = 15_000;

export function openRelayUdpLink(api: ApiAccess | undefined, token: string, agent: Agent, peer: DesiredPeer): Promise<Duplex> {
  if (!api) return Promise.reject(new Error('the control plane (relay) is not known yet'));
  return new Promise<Duplex>((resolve, reject) => {
    const url = new URL(relayUdpPath(peer.node), api.url);
    const req = httpsRequest(url, {
      method: 'POST', agent, ...(isIP(url.hostname) ? { servername: '' } : {}), ...(api.caCert ? { ca: api.caCert } : {}),
      headers: { authorization: `Bearer ${token}`, connection: 'Upgrade', upgrade: UDP_UPGRADE },
    });
    const timer = setTimeout(() => req.destroy(new Error(`not accepted within ${OPEN_TIMEOUT_MS} ms`)), OPEN_TIMEOUT_MS);
    req.on('upgrade', (_res, socket) => {
      clearTimeout(timer);
      socket.on('error', () => undefined);
      socket.on('data', () => undefined); // nothing comes this way
      socket.resume();
      resolve(socket);
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      res.resume();
      reject(new Error(`the control plane refused the UDP relay link to node ${peer.node}: ${res.statusCode}`));
    });
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}
