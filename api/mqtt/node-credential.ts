// The bootstrap -> per-node credential exchange, shared by agent and control plane. An agent holding
// only the cluster's bootstrap token connects as BOOTSTRAP_MQTT_USER (which may read nothing but the
// control plane's presence, to learn the API URL and CA), then POSTs the token to
// `nodeCredentialPath(node)` over HTTPS and gets its own credential: from then on it is
// username = node name, password = that credential, and the bootstrap token no longer works for it.
import * as v from 'valibot';

/** Not a valid node name for the exchange: no node can hold the bootstrap identity's topics. */
export const BOOTSTRAP_MQTT_USER = 'skiff-bootstrap';

export const nodeCredentialPath = (node: string) => `/skiff/v1/node-credentials/${encodeURIComponent(node)}`;

export const nodeCredentialResponse = v.object({
  node: v.string(),
  credential: v.pipe(v.string(), v.minLength(16)),
});
export type NodeCredentialResponse = v.InferOutput<typeof nodeCredentialResponse>;

/** Where a node asks for its TLS certificate (CN system:node:NAME) with its own credential. */
export const nodeCertificatePath = (node: string) => `/skiff/v1/node-certificates/${encodeURIComponent(node)}`;

export const nodeCertificateResponse = v.object({
  node: v.string(),
  cert: v.pipe(v.string(), v.startsWith('-----BEGIN CERTIFICATE-----')),
  key: v.pipe(v.string(), v.includes('PRIVATE KEY-----')),
  caCert: v.pipe(v.string(), v.startsWith('-----BEGIN CERTIFICATE-----')),
  notAfter: v.string(),
});
export type NodeCertificateResponse = v.InferOutput<typeof nodeCertificateResponse>;
