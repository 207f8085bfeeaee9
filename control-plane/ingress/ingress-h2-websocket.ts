// WebSocket over HTTP/2 (RFC 8441) on the Ingress ports: the gateway advertises
// SETTINGS_ENABLE_CONNECT_PROTOCOL, and an extended CONNECT (`:method CONNECT`, `:protocol
// websocket`, `:path`, `:authority`) is routed as a GET of that path and host. Pods speak HTTP/1.1:
// the gateway writes them the WebSocket handshake of RFC 6455 (Connection: Upgrade, Upgrade:
// websocket, a Sec-WebSocket-Key of its own), reads the pod's answer head, and answers the stream
// 200 when the pod switched protocols (101 with the Sec-WebSocket-Accept that key asks for; its
// Sec-WebSocket-Protocol and -Extensions passed on), else the pod's status and body; a 101 without
// the right Accept is a 502 (RFC 6455 4.1: the handshake failed, whatever answered is no WebSocket). From then on the stream's DATA and the pod's bytes flow both
// ways untouched (WebSocket frames are the same over both versions). A pod that refused before
// answering anything lets the gateway try the next endpoint.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { TUNNEL_HEADER_PREFIX } from '../../api/tunnel-headers.js';
import type { GatewayRequest } from './ingress-servers.js';

/** Largest handshake head the gateway writes to the pod, and reads back from it. */
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_ANSWER_HEAD_BYTES = 16 * 1024;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** RFC 6455 1.3: appended to the key before hashing. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The Sec-WebSocket-Accept a server answers for `key` (RFC 6455 4.2.2). */
export function websocketAccept(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

/** The handshake the pod gets, and the Sec-WebSocket-Accept its 101 must carry. */
export interface WebSocketHandshake {
  head: Buffer;
  accept: string;
}
/** Headers of the pod's answer that describe its HTTP/1.1 connection, not the stream. */
const NOT_PASSED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'content-length', 'sec-websocket-accept', 'http2-settings']);

/** An RFC 8441 extended CONNECT asking for a WebSocket. */
export function websocketOverH2(req: GatewayRequest): boolean {
  return req.httpVersionMajor === 2 && req.method === 'CONNECT' && (req.headers as IncomingHttpHeaders)[':protocol'] === 'websocket';
}

/**
 * The RFC 6455 handshake the pod gets for an extended CONNECT to `path`: a GET with the client's
 * headers as the gateway forwards them (`forwarded`: no pseudo-headers, hop-by-hop ones or
 * X-Forwarded-* of the client's; the gateway's X-Forwarded-*), none speaking to the tunnel, and a
 * key of the gateway's. Undefined when a value could split the head or it grows too large.
 */
export function websocketHead(path: string, forwarded: Record<string, string>): WebSocketHandshake | undefined {
  const lines = [`GET ${path} HTTP/1.1`];
  for (const name in forwarded) {
    const value = forwarded[name]!;
    if (name.startsWith(TUNNEL_HEADER_PREFIX) || name === 'sec-websocket-key' || name === 'sec-websocket-version') continue;
    if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) return undefined;
    lines.push(`${name}: ${value}`);
  }
  const version = forwarded['sec-websocket-version'];
  const key = randomBytes(16).toString('base64');
  lines.push('connection: Upgrade', 'upgrade: websocket', `sec-websocket-key: ${key}`,
    `sec-websocket-version: ${version !== undefined && /^\d{1,3}$/.test(version) ? version : '13'}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return head.length > MAX_HEAD_BYTES ? undefined : { head, accept: websocketAccept(key) };
}

/** The status and headers of an HTTP/1.x answer head (without its blank line); undefined when malformed. */
export function parseAnswerHead(text: string): { status: number; headers: Array<[string, string]> } | undefined {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const status = /^HTTP\/1\.[01] ([1-5]\d\d)(?: [^\r\n]*)?$/.exec(statusLine);
  if (!status || lines.length > 100) return undefined;
  const headers: Array<[string, string]> = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    if (colon <= 0 || !TOKEN.test(name)) return undefined;
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  return { status: Number(status[1]), headers };
}

/** What the stream answers for the pod's answer: 200 for a switch (101), else the pod's status (3xx-5xx) with the headers that can cross. */
function streamAnswer(answer: { status: number; headers: Array<[string, string]> }): OutgoingHttpHeaders {
  const switched = answer.status === 101;
  const out: OutgoingHttpHeaders = { ':status': switched ? 200 : answer.status };
  for (const [name, value] of answer.headers) {
    if (switched ? name === 'sec-websocket-protocol' || name === 'sec-websocket-extensions' : !NOT_PASSED.has(name)) out[name] = value;
  }
  return out;
}

/**
 * Carries an extended CONNECT stream to one endpoint over `upstream` (a byte stream to the pod):
 * resolves 'done' once the pod answered (the stream then carries bytes both ways until either side
 * ends), or why the pod refused before answering anything. `release` frees what carries upstream.
 */
export function carryWebSocketOverH2(upstream: Duplex, release: () => void, handshake: WebSocketHandshake, stream: ServerHttp2Stream): Promise<'done' | string> {
  return new Promise((resolve) => {
    let seen: Buffer = Buffer.alloc(0);
    let answered = false;
    const end = () => {
      release();
      upstream.destroy();
      if (!stream.destroyed) stream.destroy();
    };
    /** The gateway's own answer when the pod's cannot be passed on. */
    const fail = (text: string) => {
      if (!stream.destroyed && !stream.headersSent) stream.respond({ ':status': 502, 'content-type': 'text/plain; charset=utf-8' });
      if (!stream.destroyed && !stream.writableEnded) stream.end(`${text}\n`);
      release();
      upstream.destroy();
    };
    const onData = (chunk: Buffer) => {
      answered = true; // the pod took the connection: no other endpoint from here on
      resolve('done');
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const at = seen.indexOf('\r\n\r\n');
      if (at < 0) {
        if (seen.length > MAX_ANSWER_HEAD_BYTES) fail('the pod\'s answer head is too large');
        return;
      }
      upstream.off('data', onData);
      const answer = parseAnswerHead(seen.subarray(0, at).toString('latin1'));
      if (!answer) return fail('malformed answer from the pod');
      // a 2xx would tell the client its WebSocket is open
      if (answer.status !== 101 && answer.status < 300) return fail(`the pod did not switch protocols (it answered ${answer.status})`);
      if (answer.status === 101) {
        const accepts = answer.headers.filter(([name]) => name === 'sec-websocket-accept');
        if (accepts.length !== 1 || accepts[0]![1] !== handshake.accept) return fail('the pod switched protocols without the Sec-WebSocket-Accept of the handshake\'s key');
      }
      try {
        stream.respond(streamAnswer(answer));
      } catch {
        return fail('the pod\'s answer has headers HTTP/2 cannot carry');
      }
      const rest = seen.subarray(at + 4);
      if (rest.length > 0) stream.write(rest);
      upstream.pipe(stream);
      if (answer.status === 101) stream.pipe(upstream);
    };
    upstream.on('data', onData);
    upstream.on('error', (error: Error) => {
      if (answered) return end();
      release();
      resolve(error.message || 'the pod refused the stream');
    });
    upstream.on('close', () => {
      if (!answered) {
        release();
        return resolve('the pod closed the stream without answering');
      }
      if (!stream.headersSent) fail('the pod closed the stream before its answer head ended');
      else if (!stream.destroyed && !stream.writableEnded) stream.end();
    });
    stream.on('close', () => {
      end();
      resolve('done'); // the client went away: nothing more to try
    });
    upstream.write(handshake.head);
  });
}
