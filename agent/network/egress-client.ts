// One guest request sent out of the cluster through the agent's real network: node:http, or
// node:https when the guest asked for https (TLS by the agent, the server's certificate verified
// against the system's CAs for the name the guest used). The connection goes to the address the
// egress check allowed, never to one a name resolves to later; the Host header is the guest's
// authority. Failures become the guest's wasi:http error-codes.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { PodNetworkError, type HttpRequest, type HttpResponse } from '../../runtime/pod-runtime.js';

export interface OutsideTarget {
  ip: string;
  port: number;
  /** The name the guest used (TLS server name); undefined for an IP literal. */
  servername: string | undefined;
  maxResponseBytes: number;
  /** PEM CA(s) the server's certificate must chain to, instead of the system's. */
  ca?: string;
}

/** Headers Node sets itself, or that belong to one hop. */
const HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'content-length']);

function errorOf(error: NodeJS.ErrnoException, where: string, timeoutMs: number): PodNetworkError {
  const message = `${where}: ${error.message}`;
  switch (error.code) {
    case 'ECONNREFUSED': return new PodNetworkError('connection-refused', `dial tcp ${where}: connect: connection refused`);
    case 'ETIMEDOUT': return new PodNetworkError('connection-timeout', `dial tcp ${where}: i/o timeout after ${timeoutMs} ms`);
    case 'EHOSTUNREACH': case 'ENETUNREACH': return new PodNetworkError('destination-unavailable', message);
    case 'ECONNRESET': case 'EPIPE': return new PodNetworkError('connection-terminated', message);
    case 'HPE_INVALID_CONSTANT': case 'HPE_INVALID_STATUS': case 'HPE_INVALID_HEADER_TOKEN':
      return new PodNetworkError('HTTP-protocol-error', message);
    default:
      if (/certificate|CERT_|SELF_SIGNED/i.test(error.code ?? '') || /certificate/i.test(error.message)) return new PodNetworkError('TLS-certificate-error', message);
      if (/^ERR_SSL|^EPROTO/.test(error.code ?? '')) return new PodNetworkError('TLS-protocol-error', message);
      return new PodNetworkError('connection-terminated', message);
  }
}

export function sendOutside(target: OutsideTarget, request: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
  const tls = request.scheme === 'https';
  const where = `${isIP(target.ip) === 6 ? `[${target.ip}]` : target.ip}:${target.port}`;
  const headers: Array<[string, string]> = [['host', request.authority]];
  for (const [name, value] of request.headers) if (!HOP.has(name.toLowerCase())) headers.push([name, value]);
  if (request.body.length > 0 || !['GET', 'HEAD', 'OPTIONS', 'DELETE'].includes(request.method)) headers.push(['content-length', String(request.body.length)]);
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const fail = (error: PodNetworkError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(error);
    };
    const options = {
      host: target.ip, port: target.port, method: request.method, path: request.pathWithQuery || '/',
      headers: headers.flat(), setHost: false, agent: false as const,
      ...(tls && target.servername ? { servername: target.servername } : {}),
      ...(tls && target.ca ? { ca: target.ca } : {}),
    };
    const req = (tls ? httpsRequest : httpRequest)(options, (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > target.maxResponseBytes) fail(new PodNetworkError('HTTP-response-incomplete', `${where}: the response body is over ${target.maxResponseBytes} bytes`));
        else chunks.push(chunk);
      });
      response.on('error', (error) => fail(errorOf(error, where, timeoutMs)));
      response.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const out: Array<[string, string]> = [];
        const raw = response.rawHeaders;
        for (let i = 0; i + 1 < raw.length; i += 2) {
          const name = raw[i]!.toLowerCase();
          if (!HOP.has(name) || name === 'content-length') out.push([name, raw[i + 1]!]);
        }
        resolve({ status: response.statusCode ?? 502, headers: out, body: new Uint8Array(Buffer.concat(chunks)) });
      });
    });
    const timer = setTimeout(() => fail(new PodNetworkError('HTTP-response-timeout', `no response from ${where} within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (error) => fail(errorOf(error, where, timeoutMs)));
    req.end(request.body.length > 0 ? Buffer.from(request.body) : undefined);
  });
}
