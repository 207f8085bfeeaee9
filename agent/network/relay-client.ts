// The sending end of the relay (api/mqtt/relay.ts): a pod request for a pod of a node this one
// cannot reach directly, POSTed to the control plane's API with this node's credential; the
// control plane passes it to that node over the node channel. Bodies are bounded
// (MAX_RELAY_BODY_BYTES each way).
import { Agent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import * as v from 'valibot';
import type { DesiredPeer } from '../../api/mqtt/messages.js';
import { MAX_RELAY_BODY_BYTES, MAX_RELAY_TIMEOUT_MS, relayPath, relayResult, type RelayRequest } from '../../api/mqtt/relay.js';
import { PodNetworkError, type HttpRequest, type HttpResponse } from '../../runtime/pod-runtime.js';
import type { ApiAccess } from '../credentials/node-certificate.js';
import type { Relay } from './mesh.js';
import { openRelayStream } from './relay-stream-client.js';
import { openRelayUdpLink } from './relay-udp-client.js';
import { carriedHeader, isErrorCode } from './tunnel-protocol.js';

const BACKSTOP_MS = 3_000;

export class RelayClient implements Relay {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 32 });

  constructor(private readonly token: string, private readonly api: () => ApiAccess | undefined) {}

  request(peer: DesiredPeer, podIP: string, port: number, request: HttpRequest, timeoutMs: number, sourceIP?: string): Promise<HttpResponse> {
    const api = this.api();
    if (!api) return Promise.reject(new PodNetworkError('destination-unavailable', `${podIP}:${port} runs on node ${peer.node}, which cannot be reached directly, and the control plane (relay) is not known yet`));
    if (request.body.byteLength > MAX_RELAY_BODY_BYTES) {
      return Promise.reject(new PodNetworkError('HTTP-request-body-size', `the relay to node ${peer.node} carries bodies up to ${MAX_RELAY_BODY_BYTES} bytes`));
    }
    const timeout = Math.max(1, Math.min(MAX_RELAY_TIMEOUT_MS, Math.round(timeoutMs)));
    const payload: RelayRequest = {
      podIP, port, timeoutMs: timeout, ...(sourceIP ? { sourceIP } : {}),
      request: {
        method: request.method, pathWithQuery: request.pathWithQuery, scheme: request.scheme, authority: request.authority,
        headers: request.headers.filter(([name]) => carriedHeader(name.toLowerCase())).map(([n, val]) => [n, val] as [string, string]),
        body: Buffer.from(request.body).toString('base64'),
      },
    };
    const body = JSON.stringify(payload);
    const unavailable = (message: string) => new PodNetworkError('destination-unavailable', `${podIP}:${port} on node ${peer.node} by relay: ${message}`);
    return new Promise<HttpResponse>((resolve, reject) => {
      const url = new URL(relayPath(peer.node), api.url);
      const req = httpsRequest(url, {
        method: 'POST', ...(isIP(url.hostname) ? { servername: '' } : {}), agent: this.#agent, ...(api.caCert ? { ca: api.caCert } : {}), timeout: timeout + BACKSTOP_MS,
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(unavailable(e.message)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return reject(unavailable(`the control plane answered ${res.statusCode}: ${text.slice(0, 300)}`));
          let result;
          try {
            result = v.parse(relayResult, JSON.parse(text));
          } catch (error) {
            return reject(unavailable(`unreadable answer: ${(error as Error).message}`));
          }
          if ('error' in result) return reject(new PodNetworkError(isErrorCode(result.error.code) ? result.error.code : 'internal-error', `node ${peer.node} (relay): ${result.error.message}`));
          resolve({ status: result.response.status, headers: result.response.headers, body: Buffer.from(result.response.body, 'base64') });
        });
      });
      req.on('timeout', () => req.destroy(new PodNetworkError('HTTP-response-timeout', `no response from ${podIP}:${port} by relay within ${timeout} ms`)));
      req.on('error', (error) => reject(error instanceof PodNetworkError ? error : unavailable(error.message)));
      req.end(body);
    });
  }

  /** A raw TCP connection by relay (relay-stream-client.ts). */
  openStream(peer: DesiredPeer, podIP: string, port: number, from: { host: string; port: number } | undefined, options: { listenerOnly?: boolean } = {}): Promise<Duplex> {
    return openRelayStream(this.api(), this.token, this.#agent, { peer, podIP, port, source: from, ...options });
  }

  /** A one-way link for datagram frames to `peer` by relay (relay-udp-client.ts). */
  openDatagramLink(peer: DesiredPeer): Promise<Duplex> {
    return openRelayUdpLink(this.api(), this.token, this.#agent, peer);
  }

  close(): void {
    this.#agent.destroy();
  }
}
