// Node certificates: each node gets a TLS certificate signed by the cluster CA (DATA_DIR/ca.crt),
// CN system:node:NAME, O system:nodes, for both client and server auth: the agents' tunnel
// (agent/network/tunnel-*.ts) authenticates both ends with them. The control plane makes the key
// pair and hands it over HTTPS to the node that authenticated with its own credential (the same
// channel that carried that credential). Valid NODE_CERT_VALIDITY_DAYS; agents renew before expiry.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { NODE_USER_PREFIX, NODES_GROUP } from '../../api/node-identity.js';
import { INGRESS_GATEWAY_GROUP, INGRESS_GATEWAY_USER } from '../../api/tunnel-headers.js';

export const NODE_CERT_VALIDITY_DAYS = 30;
/** IP SANs a node may ask for at most. */
export const MAX_NODE_CERT_IPS = 4;

export interface NodeCertificate {
  cert: string;
  key: string;
  caCert: string;
  notAfter: string;
}

export class InvalidCertificateRequestError extends Error {
  override readonly name = 'InvalidCertificateRequestError';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/** The IPs a node asked for, validated: at most MAX_NODE_CERT_IPS IP literals (throws InvalidCertificateRequestError). */
export function requestedIPs(body: unknown): string[] {
  const ips = (body as { ips?: unknown } | null)?.ips ?? [];
  if (!Array.isArray(ips)) throw new InvalidCertificateRequestError('ips', 'ips must be an array of IP addresses');
  if (ips.length > MAX_NODE_CERT_IPS) throw new InvalidCertificateRequestError('ips', `at most ${MAX_NODE_CERT_IPS} ips`);
  for (const [i, ip] of ips.entries()) {
    if (typeof ip !== 'string' || ip.length > 45 || isIP(ip) === 0) throw new InvalidCertificateRequestError(`ips[${i}]`, `ips[${i}] is not an IP address`);
  }
  return [...new Set(ips as string[])];
}

export class NodeCertificateIssuer {
  /**
   * `ca`: the cluster CA's files' directory (ensureTls made them). `reservedIPs`: addresses the
   * control plane serves on with the same CA (API server, broker): a node certificate never names
   * them, so it cannot pass for the API server with kubectl or an agent.
   */
  constructor(private readonly dataDir: string, private readonly reservedIPs: readonly string[] = [], private readonly validityDays = NODE_CERT_VALIDITY_DAYS) {}

  async issue(node: string, ips: readonly string[], now: Date = new Date()): Promise<NodeCertificate> {
    const [caCert, caKey] = await Promise.all([readFile(join(this.dataDir, 'ca.crt'), 'utf8'), readFile(join(this.dataDir, 'ca.key'), 'utf8')]);
    const reserved = new Set(this.reservedIPs);
    const sans = ips.filter((ip) => !reserved.has(ip));
    const notAfter = new Date(now.getTime() + this.validityDays * 24 * 3600_000);
    const leaf = await generate([{ name: 'commonName', value: `${NODE_USER_PREFIX}${node}` }, { name: 'organizationName', value: NODES_GROUP }], {
      keyType: 'ec', algorithm: 'sha256', notBeforeDate: new Date(now.getTime() - 60_000), notAfterDate: notAfter, ca: { cert: caCert, key: caKey },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', clientAuth: true, serverAuth: true },
        ...(sans.length ? [{ name: 'subjectAltName' as const, altNames: sans.map((ip) => ({ type: 7 as const, ip })) }] : []),
      ],
    });
    return { cert: leaf.cert, key: leaf.private, caCert, notAfter: new X509Certificate(leaf.cert).validTo };
  }

  /**
   * The Ingress gateway's client certificate for the agents' tunnels (decision 040): CN
   * INGRESS_GATEWAY_USER, O INGRESS_GATEWAY_GROUP, client auth only, no SANs (it never serves).
   * Made in memory by the control plane for itself; never handed out.
   */
  async issueGateway(now: Date = new Date()): Promise<NodeCertificate> {
    const [caCert, caKey] = await Promise.all([readFile(join(this.dataDir, 'ca.crt'), 'utf8'), readFile(join(this.dataDir, 'ca.key'), 'utf8')]);
    const notAfter = new Date(now.getTime() + this.validityDays * 24 * 3600_000);
    const leaf = await generate([{ name: 'commonName', value: INGRESS_GATEWAY_USER }, { name: 'organizationName', value: INGRESS_GATEWAY_GROUP }], {
      keyType: 'ec', algorithm: 'sha256', notBeforeDate: new Date(now.getTime() - 60_000), notAfterDate: notAfter, ca: { cert: caCert, key: caKey },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', clientAuth: true },
      ],
    });
    return { cert: leaf.cert, key: leaf.private, caCert, notAfter: new X509Certificate(leaf.cert).validTo };
  }
}

/**
 * The addresses the control plane serves on (API server, broker) given its hosts: loopback always,
 * and every local address when one of them is a wildcard (0.0.0.0, ::).
 */
export function controlPlaneAddresses(hosts: readonly string[]): string[] {
  const out = new Set(['127.0.0.1', '::1', ...hosts.filter((h) => isIP(h) !== 0)]);
  if (hosts.some((h) => h === '0.0.0.0' || h === '::')) {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address);
  }
  return [...out];
}
