// This node's TLS certificate (DATA_DIR/node-tls.json, 0600): CN system:node:NAME signed by the
// cluster CA, asked for with the node's own credential at the control plane's API
// (api/mqtt/node-credential.ts) and renewed once less than a third of its validity is left. It
// survives restarts, so the tunnel (agent/network/tunnel-*.ts) works while the control plane is away.
import { X509Certificate } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import * as v from 'valibot';
import { nodeCertificatePath, nodeCertificateResponse } from '../../api/mqtt/node-credential.js';

export interface NodeTls {
  cert: string;
  key: string;
  caCert: string;
  /** ms since the epoch */
  notBefore: number;
  notAfter: number;
}

/** Where the control plane's API is (from its presence). */
export interface ApiAccess {
  url: string;
  caCert?: string | undefined;
}

/** A failed request is not repeated sooner than this. */
const RETRY_MS = 30_000;

export const nodeTlsPath = (dataDir: string) => join(dataDir, 'node-tls.json');

export class NodeCertificate {
  #tls: NodeTls | undefined;
  #inFlight: Promise<void> | undefined;
  #failedAt = -Infinity;
  readonly #listeners = new Set<(tls: NodeTls) => void>();

  constructor(private readonly options: {
    node: string;
    /** The node's own credential (bearer token on the API). */
    token: string;
    dataDir: string;
    /** IP SANs to ask for (the node IP). */
    ips: string[];
    now?: () => number;
    timeoutMs?: number;
    onError?: (error: Error) => void;
  }) {}

  get current(): NodeTls | undefined {
    return this.#tls;
  }

  /** Reads the stored certificate, if it is this node's and not expired. */
  async load(): Promise<NodeTls | undefined> {
    try {
      const stored = JSON.parse(await readFile(nodeTlsPath(this.options.dataDir), 'utf8')) as { node?: unknown; cert?: unknown; key?: unknown; caCert?: unknown };
      if (stored.node !== this.options.node || typeof stored.cert !== 'string' || typeof stored.key !== 'string' || typeof stored.caCert !== 'string') return undefined;
      const tls = parseTls(stored.cert, stored.key, stored.caCert);
      if (tls.subject !== `system:node:${this.options.node}` || tls.notAfter <= this.#now()) return undefined;
      this.#set(tls);
      return tls;
    } catch {
      return undefined;
    }
  }

  /** No certificate, or less than a third of its validity left. */
  needsRenewal(): boolean {
    const tls = this.#tls;
    if (!tls) return true;
    return tls.notAfter - this.#now() < (tls.notAfter - tls.notBefore) / 3;
  }

  /** Asks for a new certificate when needed (at most one request at a time, not again for 30 s after a failure). */
  maintain(api: ApiAccess | undefined): Promise<void> {
    if (!api || !this.needsRenewal() || this.#inFlight || this.#now() - this.#failedAt < RETRY_MS) return this.#inFlight ?? Promise.resolve();
    const inFlight = this.renew(api)
      .then(() => undefined, (error: Error) => {
        this.#failedAt = this.#now();
        this.options.onError?.(error);
      })
      .finally(() => {
        this.#inFlight = undefined;
      });
    this.#inFlight = inFlight;
    return inFlight;
  }

  /** Asks the control plane for a certificate now and stores it. */
  async renew(api: ApiAccess): Promise<NodeTls> {
    const url = new URL(nodeCertificatePath(this.options.node), api.url);
    const { status, body } = await postJson(url, this.options.token, api.caCert, JSON.stringify({ ips: this.options.ips }), this.options.timeoutMs ?? 10_000);
    if (status !== 201) throw new Error(`node certificate request answered ${status}: ${body.slice(0, 300)}`);
    const issued = v.parse(nodeCertificateResponse, JSON.parse(body));
    const tls = parseTls(issued.cert, issued.key, issued.caCert);
    if (tls.subject !== `system:node:${this.options.node}`) throw new Error(`the control plane issued a certificate for ${tls.subject}`);
    const path = nodeTlsPath(this.options.dataDir);
    await writeFile(`${path}.tmp`, JSON.stringify({ node: this.options.node, cert: issued.cert, key: issued.key, caCert: issued.caCert }), { mode: 0o600 });
    await rename(`${path}.tmp`, path);
    this.#set(tls);
    return tls;
  }

  onChange(listener: (tls: NodeTls) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #set(tls: NodeTls & { subject?: string }): void {
    const { subject: _subject, ...rest } = tls;
    this.#tls = rest;
    for (const listener of this.#listeners) listener(rest);
  }

  #now(): number {
    return (this.options.now ?? Date.now)();
  }
}

/** The certificate's validity and CN; throws when it is not a certificate with that key. */
export function parseTls(cert: string, key: string, caCert: string): NodeTls & { subject: string } {
  const x509 = new X509Certificate(cert);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x509.subject)?.[1] ?? '';
  return { cert, key, caCert, notBefore: Date.parse(x509.validFrom), notAfter: Date.parse(x509.validTo), subject: cn };
}

function postJson(url: URL, token: string, ca: string | undefined, body: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      ...(ca ? { ca } : {}),
      timeout: timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('node certificate request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
