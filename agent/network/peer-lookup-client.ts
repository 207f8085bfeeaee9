// The agent's side of GET /skiff/v1/peers?ip= (api/peer-lookup.ts): one HTTPS request with the node
// credential to the API the control plane announced. 200: the owner; 404: none; anything else, or
// an answer that fails the schema, rejects (not cached: the next request asks again).
import { Agent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import * as v from 'valibot';
import type { DesiredPeer } from '../../api/mqtt/messages.js';
import { PEER_LOOKUP_PATH, peerLookupAnswer } from '../../api/peer-lookup.js';
import type { ApiAccess } from '../credentials/node-certificate.js';

const TIMEOUT_MS = 5_000;
const MAX_ANSWER_BYTES = 16 * 1024;

export function peerLookupClient(token: string, api: () => ApiAccess | undefined): { fetch: (ip: string) => Promise<DesiredPeer | undefined>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const fetch = (ip: string) => new Promise<DesiredPeer | undefined>((resolve, reject) => {
    const access = api();
    if (!access) return reject(new Error('the control plane is not known yet'));
    const url = new URL(`${PEER_LOOKUP_PATH}?ip=${encodeURIComponent(ip)}`, access.url);
    const req = httpsRequest(url, {
      method: 'GET', agent, timeout: TIMEOUT_MS, ...(isIP(url.hostname) ? { servername: '' } : {}), ...(access.caCert ? { ca: access.caCert } : {}),
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER_BYTES) res.destroy(new Error('the answer is too large'));
        else chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 404) return resolve(undefined);
        if (res.statusCode !== 200) return reject(new Error(`the control plane answered ${res.statusCode}: ${text.slice(0, 200)}`));
        try {
          resolve(v.parse(peerLookupAnswer, JSON.parse(text)).peer);
        } catch (error) {
          reject(new Error(`unreadable answer: ${(error as Error).message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
  return { fetch, close: () => agent.destroy() };
}
