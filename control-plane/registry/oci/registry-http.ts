// HTTP(S) requests to OCI registries: TLS with the system roots plus the cluster's configured CAs,
// plain HTTP only to registries listed as insecure, bounded redirects (blob storage often answers
// with one) that never carry credentials to another origin, timeouts, and bounded bodies.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';

export interface RegistryTransport {
  /** Extra CA certificates (PEM) trusted besides the system roots. */
  caCerts?: string[];
  /** host[:port] of registries reached over plain HTTP (tests, lab registries). */
  insecureRegistries?: string[];
  /** Socket inactivity timeout (default 30 s). */
  timeoutMs?: number;
}

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(message: string, readonly status: number | undefined, readonly code?: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const MAX_REDIRECTS = 5;

export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: Buffer;
}

/** Base URL of a registry's API: https, or http when it is listed as insecure. */
export function registryBaseUrl(host: string, transport: RegistryTransport): string {
  return `${transport.insecureRegistries?.includes(host) ? 'http' : 'https'}://${host}`;
}

/** Whether `url` may be reached: https, or http to a registry listed as insecure. */
export function isAllowedUrl(url: URL, transport: RegistryTransport): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && (transport.insecureRegistries?.includes(url.host) ?? false);
}

/** Sends a request and follows redirects of GET and HEAD; the caller reads (or discards) the body. */
export async function sendRegistryRequest(url: URL, init: RegistryRequest, transport: RegistryTransport): Promise<IncomingMessage> {
  let current = url;
  let headers = { ...init.headers };
  for (let hop = 0; ; hop++) {
    if (!isAllowedUrl(current, transport)) throw new RegistryError(`refusing ${current.protocol}//${current.host}: only https, or http to a registry listed as insecure`, undefined);
    const res = await once(current, { ...init, headers }, transport);
    const location = res.headers.location;
    const isRedirect = [301, 302, 303, 307, 308].includes(res.statusCode ?? 0) && location;
    if (!isRedirect || (init.method !== 'GET' && init.method !== 'HEAD')) return res;
    res.resume();
    if (hop >= MAX_REDIRECTS) throw new RegistryError(`more than ${MAX_REDIRECTS} redirects from ${url.host}`, res.statusCode);
    const next = new URL(location, current);
    // credentials are for the registry: a redirect to storage elsewhere goes without them
    if (next.origin !== current.origin) {
      const { authorization: _dropped, ...rest } = headers;
      headers = rest;
    }
    current = next;
  }
}

function once(url: URL, init: RegistryRequest, transport: RegistryTransport): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const options = {
      method: init.method,
      headers: { 'user-agent': 'skiff', ...init.headers, ...(init.body ? { 'content-length': String(init.body.length) } : {}) },
      timeout: transport.timeoutMs ?? 30_000,
      ...(url.protocol === 'https:' && transport.caCerts?.length ? { ca: [...rootCertificates, ...transport.caCerts] } : {}),
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, resolve);
    req.on('timeout', () => req.destroy(new RegistryError(`${init.method} ${url.host}${url.pathname}: timed out`, undefined)));
    req.on('error', (error) => reject(error instanceof RegistryError ? error : new RegistryError(`${init.method} ${url.host}${url.pathname}: ${error.message}`, undefined, undefined, { cause: error })));
    req.end(init.body);
  });
}

/** Reads a whole body, refusing more than `maxBytes`. */
export function readBody(res: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(res.headers['content-length'] ?? NaN);
    if (declared > maxBytes) {
      res.destroy();
      reject(new RegistryError(`response of ${declared} bytes is larger than ${maxBytes}`, res.statusCode));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        res.destroy();
        reject(new RegistryError(`response larger than ${maxBytes} bytes`, res.statusCode));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

/** The registry's error, from its `{ errors: [{ code, message }] }` body when it sent one. */
export async function registryErrorOf(res: IncomingMessage, what: string): Promise<RegistryError> {
  const body = await readBody(res, 64 * 1024).catch(() => Buffer.alloc(0));
  let code: string | undefined;
  let detail = '';
  try {
    const first = (JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: unknown; message?: unknown }> }).errors?.[0];
    if (typeof first?.code === 'string') code = first.code.slice(0, 64);
    if (typeof first?.message === 'string') detail = `: ${first.message.slice(0, 200)}`;
  } catch {
    // not the registry's JSON
  }
  return new RegistryError(`${what}: HTTP ${res.statusCode}${code ? ` ${code}` : ''}${detail}`, res.statusCode, code);
}
