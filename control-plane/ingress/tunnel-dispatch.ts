// One request of the Ingress gateway through a node's tunnel (ingress-tunnel.ts), on undici's
// HTTP/1.1 client: a pool of kept-alive mutual-TLS connections per node address and certificate,
// and a dispatch handler that writes the pod's answer straight to the client's response (status and
// raw header pairs, then the body with backpressure), with no ClientRequest, IncomingMessage or
// pipe in between: node:https's client cost the gateway about a third more CPU per request
// (docs/benchmarks.md, "The Ingress on undici's client"). The node's own refusals
// (`x-skiff-tunnel-error`) come back as outcomes for ingress-tunnel.ts to judge.
import type { PeerCertificate } from 'node:tls';
import { Pool, type Dispatcher } from 'undici';
import { TUNNEL_HEADERS } from '../../api/tunnel-headers.js';
import { writeRawHead, type GatewayResponse } from './ingress-servers.js';

/** Headers of one hop (never carried back to the client). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings']);

/** Connections one node's pool may hold at once (node:https's pool had the same bound). */
const CONNECTIONS_PER_NODE = 64;

export interface PoolTarget {
  address: string;
  port: number;
  /** The CN the node's certificate must have (system:node:NAME). */
  expectedCN: string;
}

export interface ClientTls {
  cert: string;
  key: string;
  caCert: string;
}

/** A pool to one node's tunnel; `onConnect` is told of every new TLS connection. */
export function tunnelPool(target: PoolTarget, tls: ClientTls, connectTimeoutMs: number, onConnect: () => void): Pool {
  const endpoint = `${target.address}:${target.port}`;
  const host = target.address.includes(':') ? `[${target.address}]` : target.address;
  const pool = new Pool(`https://${host}:${target.port}`, {
    connections: CONNECTIONS_PER_NODE,
    connect: {
      key: tls.key, cert: tls.cert, ca: tls.caCert, minVersion: 'TLSv1.3', timeout: connectTimeoutMs,
      // nodes are addressed by IP: no SNI; the CN is checked here
      servername: '',
      checkServerIdentity: (_host: string, cert: PeerCertificate) =>
        (cert.subject?.CN === target.expectedCN ? undefined : new Error(`the tunnel at ${endpoint} is ${String(cert.subject?.CN)}, not ${target.expectedCN}`)),
    },
  });
  pool.on('connect', onConnect);
  return pool;
}

/** How one dispatch ended. */
export type DispatchOutcome =
  | { kind: 'done' }
  /** The node answered with its own error (x-skiff-tunnel-error): its code and message. */
  | { kind: 'node-error'; code: string; message: string }
  /** No connection could be made (nothing was sent). */
  | { kind: 'unreachable'; message: string }
  /** The connection failed before any answer came: a kept-alive one the node had closed, or the node went away. */
  | { kind: 'reset'; message: string }
  /** The request was not valid to send (a path or header undici refuses). */
  | { kind: 'invalid'; message: string }
  | { kind: 'timeout'; message: string }
  /** The connection failed after the answer began (the client's response is destroyed). */
  | { kind: 'broken'; message: string };

const NOT_SENT = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN']);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Sends the request on `pool` and writes the answer to `res`. Resolves once the answer went out,
 * or with why not; never rejects.
 */
export function dispatchThrough(pool: Pool, method: string, path: string, headers: string[], body: Buffer, res: GatewayResponse, timeoutMs: number): Promise<DispatchOutcome> {
  return new Promise((resolve) => {
    let connected = false;
    let answering = false;
    let errorCode: string | undefined;
    let errorChunks: Buffer[] | undefined;
    let abort: ((error?: Error) => void) | undefined;
    let settled = false;
    let resume: (() => void) | undefined;
    const settle = (outcome: DispatchOutcome) => {
      if (settled) return;
      settled = true;
      res.off('close', onClientGone);
      if (resume) res.off('drain', resume);
      resolve(outcome);
    };
    // the client went away before its answer was written: the tunnel request is aborted (once it
    // has a connection), and nothing more is written
    let gone = false;
    const onClientGone = () => {
      if (res.writableFinished) return;
      gone = true;
      abort?.(new Error('the client closed the connection'));
      settle({ kind: 'broken', message: 'the client closed the connection' });
    };
    res.on('close', onClientGone);
    if (res.destroyed) onClientGone();
    const handler: Dispatcher.DispatchHandler = {
      onConnect(abortRequest) {
        connected = true;
        abort = abortRequest;
        if (gone) abortRequest(new Error('the client closed the connection'));
      },
      onHeaders(statusCode, rawHeaders, resumeReading) {
        if (statusCode < 200 || gone) return true;
        const out: string[] = [];
        for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
          const name = rawHeaders[i]!.toString('latin1');
          const lower = name.toLowerCase();
          if (lower === TUNNEL_HEADERS.error) {
            errorCode = rawHeaders[i + 1]!.toString('latin1');
            errorChunks = [];
            return true;
          }
          if (!HOP_BY_HOP.has(lower)) out.push(name, rawHeaders[i + 1]!.toString('latin1'));
        }
        answering = true;
        writeRawHead(res, statusCode, out);
        resume = resumeReading;
        res.on('drain', resumeReading);
        return true;
      },
      onData(chunk) {
        if (errorChunks) {
          if (errorChunks.length < 64) errorChunks.push(chunk);
          return true;
        }
        return gone || (res as { write(chunk: Buffer): boolean }).write(chunk);
      },
      onComplete() {
        if (gone) return;
        if (errorCode !== undefined) return settle({ kind: 'node-error', code: errorCode, message: Buffer.concat(errorChunks ?? []).toString('utf8').slice(0, 500) });
        res.end();
        settle({ kind: 'done' });
      },
      onError(error: Error & { code?: string }) {
        const code = error.code ?? '';
        const message = error.message;
        if (answering) {
          res.destroy();
          return settle({ kind: 'broken', message });
        }
        if (NOT_SENT.has(code)) return settle({ kind: 'invalid', message });
        if (TIMEOUTS.has(code)) return settle({ kind: 'timeout', message });
        if (!connected) return settle({ kind: 'unreachable', message: `${code === 'UND_ERR_CONNECT_TIMEOUT' ? 'no connection within the connect timeout' : message}` });
        settle({ kind: 'reset', message });
      },
    };
    pool.dispatch({
      method: method as Dispatcher.HttpMethod, path, headers, body: body.length > 0 ? body : null,
      headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
    }, handler);
  });
}
