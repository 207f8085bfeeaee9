// The agents' tunnel (agent/network/tunnel-*.ts) as its clients see it: the headers that say where
// a request goes, and who besides nodes may call it. The control plane's Ingress gateway is one such
// client (decision 040): it authenticates with a certificate of the cluster CA whose CN is
// INGRESS_GATEWAY_USER, and may only reach pods (no source pod IP is trusted from it).
export const TUNNEL_HEADER_PREFIX = 'x-skiff-tunnel-';
export const TUNNEL_HEADERS = {
  target: 'x-skiff-tunnel-target',
  authority: 'x-skiff-tunnel-authority',
  scheme: 'x-skiff-tunnel-scheme',
  timeout: 'x-skiff-tunnel-timeout-ms',
  error: 'x-skiff-tunnel-error',
  source: 'x-skiff-tunnel-source',
} as const;

/** The CN of the Ingress gateway's tunnel client certificate (never a node's: no `system:node:` prefix). */
export const INGRESS_GATEWAY_USER = 'system:skiff:ingress-gateway';
/** Its O: not system:nodes, so the API's node authorizer never takes it for a node. */
export const INGRESS_GATEWAY_GROUP = 'system:skiff-gateways';
/** Largest timeout a caller may ask of the tunnel. */
export const MAX_TUNNEL_TIMEOUT_MS = 300_000;
