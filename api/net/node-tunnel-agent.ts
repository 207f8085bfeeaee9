// The pool of kept-alive connections to one node's tunnel (agent/network/tunnel-client.ts, and the
// control plane's Ingress gateway: control-plane/ingress/ingress-tunnel.ts).
import { Agent } from 'node:https';

/**
 * Every request through one pool goes to the same node with the same certificate (a renewed one gets
 * a new pool), so only the address tells its connections apart (a node that moved, or a new device
 * under an old name, is reached at its new address, not over a kept-alive connection to the old
 * one): the pool name is host:port, where https.Agent would build it per lookup from every TLS
 * option, the certificate, key and CA PEM included (some 2 KB of text, several times per request).
 */
export class NodeTunnelAgent extends Agent {
  override getName(options?: { host?: string | null; port?: number | string | null }): string {
    return `${options?.host ?? ''}:${options?.port ?? ''}`;
  }
}
