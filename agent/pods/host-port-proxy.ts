// The data path of a hostPort: one HTTP/1.1 request from the node's network, read off a node:http
// server (bounded body), given to the pod's wasi:http handler as an HttpRequest, and its
// HttpResponse written back. Failures become gateway answers and never reach the agent:
// 413 for a body over the limit, 502 when the handler fails (trap, timeout, no response),
// 504 when it outlives the request timeout, 400 for requests Node cannot parse.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../api/clock.js';
import type { HttpRequest, HttpResponse } from '../../runtime/pod-runtime.js';
import type { HttpHandle } from './pod-network.js';

/** Largest request body forwarded to a handler by default (1 MiB); larger ones get 413. */
export const DEFAULT_HOST_PORT_MAX_BODY_BYTES = 1024 * 1024;
/** How long one request may take by default, handler included (as `wasmtime serve`'s timeouts go). */
export const DEFAULT_HOST_PORT_REQUEST_TIMEOUT_MS = 30_000;

/** Connection-level headers: not forwarded either way (wasi:http forbids them to guests). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings', 'te', 'trailer']);

export interface ProxyOptions {
  clock: Clock;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  /** The address the server listens on, `host:port`: the authority when a request names no Host. */
  authority: string;
}

class BodyTooLargeError extends Error {}

/** A failure the handle wants answered with this status (e.g. 503 for a Service without endpoints). */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Serves one request on a hostPort with `handle` (the handler holding the pod port). */
export async function proxyRequest(req: IncomingMessage, res: ServerResponse, handle: HttpHandle, options: ProxyOptions): Promise<void> {
  res.on('error', () => undefined); // a client gone mid-response is not the agent's problem
  let timer: { cancel(): void } | undefined;
  try {
    const body = await readBody(req, options.maxBodyBytes);
    const request: HttpRequest = {
      method: req.method ?? 'GET',
      pathWithQuery: req.url ?? '/',
      scheme: 'http',
      authority: req.headers.host ?? options.authority,
      headers: forwardedHeaders(req.rawHeaders),
      body,
    };
    // the handler gets the deadline; the timer is a backstop for one that ignores it
    const timedOut = new Promise<'timeout'>((resolve) => (timer = options.clock.setTimeout(() => resolve('timeout'), options.requestTimeoutMs + 1_000)));
    const response = await Promise.race([handle(request, options.requestTimeoutMs), timedOut]);
    if (response === 'timeout') return reply(res, 504, `handler did not respond within ${options.requestTimeoutMs} ms`);
    writeResponse(res, response);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return reply(res, 413, error.message, true);
    if (error instanceof GatewayError) return reply(res, error.status, error.message);
    reply(res, 502, error instanceof Error ? error.message : String(error));
  } finally {
    timer?.cancel();
  }
}

/** The request's headers as a wasi:http host over HTTP/1 gives them: lower-case names, in order, no hop-by-hop ones. */
export function forwardedHeaders(raw: string[]): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!HOP_BY_HOP.has(name)) headers.push([name, raw[i + 1]!]);
  }
  return headers;
}

function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const tooLarge = () => new BodyTooLargeError(`request body exceeds ${limit} bytes`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume(); // discarded; the connection closes after the 413
        reject(tooLarge());
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

function writeResponse(res: ServerResponse, response: HttpResponse): void {
  if (!Number.isInteger(response.status) || response.status < 200 || response.status > 999) {
    return reply(res, 502, `handler answered with invalid status ${response.status}`);
  }
  const headers: string[] = [];
  for (const [name, value] of response.headers) {
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && lower !== 'content-length') headers.push(name, value);
  }
  headers.push('content-length', String(response.body.byteLength));
  try {
    res.writeHead(response.status, headers);
  } catch (error) {
    // a header Node refuses to send (invalid name or value)
    return reply(res, 502, `handler answered with an invalid header: ${(error as Error).message}`);
  }
  res.end(response.body);
}

/** A one-line text answer from the agent itself. */
function reply(res: ServerResponse, status: number, message: string, close = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = `${message.split('\n')[0]}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...(close ? { connection: 'close' } : {}) });
  res.end(text);
}
