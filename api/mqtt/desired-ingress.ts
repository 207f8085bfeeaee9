// The Ingress part of a node's desired state (decision 075), carried in its pods message and sent
// only to nodes that serve Ingress (their Node says so: api/ingress/ingress-ports.ts): skiff's
// Ingresses, compact (what the router needs), and, for nodes with an Ingress TLS port, the
// certificate and key of each `kubernetes.io/tls` Secret those Ingresses name in `spec.tls`
// (only `tls.crt` and `tls.key`, only Secrets of the Ingress's own namespace).
import * as v from 'valibot';
import { text } from './schema-parts.js';

const portRef = v.object({ number: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(65535))), name: v.optional(text(1, 63)) });
const backend = v.object({ service: v.optional(v.object({ name: text(1, 253), port: v.optional(portRef) })) });

/** One Ingress as the router (api/ingress/ingress-router.ts) reads it. */
export const desiredIngressEntry = v.object({
  namespace: text(1, 253),
  name: text(1, 253),
  creationTimestamp: v.optional(text(1, 64)),
  defaultBackend: v.optional(backend),
  rules: v.optional(v.pipe(v.array(v.object({
    host: v.optional(text(1, 253)),
    paths: v.pipe(v.array(v.object({
      path: v.optional(text(0, 2048)),
      pathType: v.picklist(['Exact', 'Prefix', 'ImplementationSpecific']),
      backend,
    })), v.maxLength(1_000)),
  })), v.maxLength(1_000))),
  tls: v.optional(v.pipe(v.array(v.object({ hosts: v.pipe(v.array(text(1, 253)), v.maxLength(1_000)), secretName: text(1, 253) })), v.maxLength(100))),
});
export type DesiredIngressEntry = v.InferOutput<typeof desiredIngressEntry>;

/** A TLS Secret an Ingress names: PEM certificate chain and private key. */
export const desiredIngressCertificate = v.object({
  namespace: text(1, 253),
  name: text(1, 253),
  cert: text(1, 256 * 1024),
  key: text(1, 64 * 1024),
});
export type DesiredIngressCertificate = v.InferOutput<typeof desiredIngressCertificate>;

export const desiredIngress = v.object({
  ingresses: v.pipe(v.array(desiredIngressEntry), v.maxLength(10_000)),
  /** Absent: the node serves no Ingress TLS port (it gets no keys). */
  certificates: v.optional(v.pipe(v.array(desiredIngressCertificate), v.maxLength(1_000))),
});
export type DesiredIngress = v.InferOutput<typeof desiredIngress>;
