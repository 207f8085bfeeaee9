// The bootstrap -> per-node credential exchange, shared by agent and control plane. An agent holding
// only the cluster's bootstrap token connects as BOOTSTRAP_MQTT_USER (which may read nothing but the
// control plane's presence, to learn the API URL and CA), then POSTs the token to
// `nodeCredentialPath(node)` over HTTPS and gets its own credential: from then on it is
// username = node name, password = that credential, and the bootstrap token no longer works for it.
import { randomBytes } from 'node:crypto';
import * as v from 'valibot';

/** Not a valid node name for the exchange: no node can hold the bootstrap identity's topics. */
export const BOOTSTRAP_MQTT_USER = 'skiff-bootstrap';

export const nodeCredentialPath = (node: string) => `/skiff/v1/node-credentials/${encodeURIComponent(node)}`;

/**
 * A random secret the requester makes once per exchange and sends with every attempt of it. A write
 * answered 503 (the store unavailable) or not answered at all may have applied: a repeat carrying the
 * key of the credential on record is given a fresh credential for the node instead of a 409, and only
 * the holder of the key can get it (decision 067).
 */
export const RETRY_KEY_PATTERN = /^[A-Za-z0-9_-]{32,128}$/;
export const newRetryKey = (): string => randomBytes(32).toString('base64url');

/** The exchange's body: `{}` (no repeat possible, as before) or `{ retryKey }`. */
export const nodeCredentialRequest = v.strictObject({
  retryKey: v.optional(v.pipe(v.string(), v.regex(RETRY_KEY_PATTERN, 'must be 32 to 128 characters of A-Z, a-z, 0-9, - and _'))),
});
export type NodeCredentialRequest = v.InferOutput<typeof nodeCredentialRequest>;

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
