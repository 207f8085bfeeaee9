// Raw TCP between pods of two nodes, multiplexed (decision 055): one HTTP/2 session per peer node
// over the same mutual-TLS tunnel port (ALPN h2; HTTP/1.1 requests and the older skiff-tcp upgrades
// of tunnel-tcp.ts keep working there), one stream per pod connection:
//   :method CONNECT   :authority POD_IP:PORT            the pod port on the receiving node
//   x-skiff-tunnel-source: POD_IP[:PORT]                 the connecting pod (or the calling node's own
//                                                        address for a NodePort client), trusted only
//                                                        as NodeNetwork.vouchedSource says
//   x-skiff-tunnel-listener-only: 1                      only a guest listener may take it
// 200: the pod took it; then the stream's DATA is the connection's bytes, END_STREAM its FIN (each
// way), RST_STREAM a reset. Anything else is a refusal with `x-skiff-tunnel-error: <code>` and the
// message as body. Flow control is HTTP/2's, per stream (STREAM_WINDOW_BYTES, as the guest's ring)
// and per session (SESSION_WINDOW_BYTES), so one slow guest never stalls the pair's other streams.
import { connect as h2connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { DesiredPeer } from '../../api/mqtt/messages.js';
import { splice } from '../../api/net/framed-stream.js';
import { PodNetworkError } from '../../runtime/pod-runtime.js';
import type { NodeTls } from '../credentials/node-certificate.js';
import { TunnelUnreachableError } from './tunnel-client.js';
import { isErrorCode, parseTarget, TUNNEL_HEADERS } from './tunnel-protocol.js';
import { LISTENER_ONLY_HEADER, parseSource, type AcceptFromPeer, type TunnelStreamTarget } from './tunnel-tcp.js';

/** Bytes in flight per stream each way (the guest's ring holds 256 KiB). */
export const STREAM_WINDOW_BYTES = 256 * 1024;
/** Bytes in flight per session each way, over all its streams. */
export const SESSION_WINDOW_BYTES = 16 * 1024 * 1024;
/** Pod connections one session carries at once (a peer past it opens no more until some end). */
export const MAX_STREAMS_PER_SESSION = 4096;
/** A session without any traffic this long is closed (its open streams finish first). */
const IDLE_MS = 120_000;

const NODE_CN = /^system:node:([A-Za-z0-9._-]{1,253})$/;

/** HTTP/2 settings of both ends. */
export const H2_SETTINGS = { initialWindowSize: STREAM_WINDOW_BYTES, maxConcurrentStreams: MAX_STREAMS_PER_SESSION, enablePush: false };

/** The peer's tunnel does not speak HTTP/2 (an older agent): the skiff-tcp upgrade is its way. */
export class NoH2Error extends Error {
  override readonly name = 'NoH2Error';
}

/** The tunnel server's 'stream' listener: a pod connection from another node, or a refusal. */
export function serveTcpStream(accept: AcceptFromPeer, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  stream.on('error', () => undefined);
  const refuse = (status: number, code: string, message: string) => {
    if (stream.destroyed || stream.headersSent) return void stream.destroy();
    stream.respond({ ':status': status, 'content-type': 'text/plain; charset=utf-8', [TUNNEL_HEADERS.error]: code });
    stream.end(message.slice(0, 2000));
  };
  const tls = stream.session?.socket as TLSSocket | undefined;
  const cn = tls?.authorized ? tls.getPeerCertificate().subject?.CN : undefined;
  const node = typeof cn === 'string' ? NODE_CN.exec(cn)?.[1] : undefined;
  if (!node) return refuse(403, 'HTTP-request-denied', 'only nodes of this cluster may open streams on the tunnel');
  if (headers[':method'] !== 'CONNECT') return refuse(405, 'HTTP-request-denied', 'the tunnel carries CONNECT streams over HTTP/2 (HTTP requests go as HTTP/1.1)');
  const target = parseTarget(headers[':authority']);
  if (!target) return refuse(400, 'HTTP-request-URI-invalid', 'the :authority must be POD_IP:PORT');
  let pod: Duplex;
  try {
    pod = accept(node, parseSource(headers[TUNNEL_HEADERS.source]), target.ip, target.port, { listenerOnly: headers[LISTENER_ONLY_HEADER] === '1' });
  } catch (error) {
    const code = error instanceof PodNetworkError ? error.code : 'internal-error';
    return refuse(code === 'destination-unavailable' ? 403 : 502, code, (error as Error)?.message ?? String(error));
  }
  if (stream.destroyed) return void pod.destroy();
  stream.respond({ ':status': 200 });
  splice(pod, stream);
}

interface Session {
  endpoint: string;
  session: ClientHttp2Session;
  ready: Promise<ClientHttp2Session>;
}

/** The sending end: one HTTP/2 session per peer node, opened on first use and kept while used. */
export class TunnelSessions {
  readonly #sessions = new Map<string, Session>();
  /** Sessions opened (tests, bench: a new TLS connection each). */
  opened = 0;

  /**
   * Opens a pod connection on `target.peer`'s tunnel: the far pod's end once it accepted. Rejects
   * with TunnelUnreachableError when the peer cannot be reached (nothing was sent), NoH2Error when
   * its tunnel has no HTTP/2, PodNetworkError when it refused.
   */
  async open(tls: NodeTls | undefined, target: TunnelStreamTarget, connectTimeoutMs: number): Promise<Duplex> {
    const { peer } = target;
    if (!tls || !peer.address || !peer.port) throw new TunnelUnreachableError(`no tunnel to node ${peer.node}`);
    const known = this.#sessions.get(peer.node);
    const reused = known !== undefined && known.endpoint === `${peer.address}:${peer.port}`;
    const session = await this.#session(tls, peer, connectTimeoutMs).ready;
    try {
      return await request(session, target);
    } catch (error) {
      // a kept session the peer had dropped: once more on a new one (nothing was accepted)
      if (!reused || !(error as { staleSession?: boolean }).staleSession) throw error;
      this.#drop(peer.node, session);
      return request(await this.#session(tls, peer, connectTimeoutMs).ready, target);
    }
  }

  #session(tls: NodeTls, peer: DesiredPeer, connectTimeoutMs: number): Session {
    const endpoint = `${peer.address}:${peer.port}`;
    const known = this.#sessions.get(peer.node);
    if (known && known.endpoint === endpoint && !known.session.closed && !known.session.destroyed) return known;
    if (known) this.#drop(peer.node, known.session);
    const expected = `system:node:${peer.node}`;
    const host = isIP(peer.address!) === 6 ? `[${peer.address}]` : peer.address!;
    const session = h2connect(`https://${host}:${peer.port}`, {
      settings: H2_SETTINGS,
      // our own TLS socket: Nagle off (small writes of many streams are not held back; node's
      // http2 would not set it, and its session socket refuses setNoDelay afterwards)
      createConnection: () => tlsConnect({
        host: peer.address!, port: peer.port, ALPNProtocols: ['h2'],
        key: tls.key, cert: tls.cert, ca: tls.caCert, minVersion: 'TLSv1.3',
        checkServerIdentity: (_host: string, cert: PeerCertificate) =>
          (cert.subject?.CN === expected ? undefined : new Error(`the tunnel at ${endpoint} is ${String(cert.subject?.CN)}, not ${expected}`)),
      }).setNoDelay(true),
    });
    this.opened++;
    const ready = new Promise<ClientHttp2Session>((resolve, reject) => {
      const timer = setTimeout(() => fail(new TunnelUnreachableError(`no connection to the tunnel of node ${peer.node} at ${endpoint} within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        this.#drop(peer.node, session);
        reject(error);
      };
      session.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') fail(new NoH2Error(`the tunnel of node ${peer.node} has no HTTP/2`));
        else fail(new TunnelUnreachableError(`tunnel of node ${peer.node} at ${endpoint}: ${error.code ?? ''} ${error.message}`.trim()));
      });
      session.once('connect', () => {
        clearTimeout(timer);
        session.on('error', () => undefined);
        session.setLocalWindowSize(SESSION_WINDOW_BYTES);
        resolve(session);
      });
    });
    ready.catch(() => undefined);
    session.once('close', () => this.#forget(peer.node, session));
    session.once('goaway', () => this.#forget(peer.node, session));
    session.setTimeout(IDLE_MS, () => this.#drop(peer.node, session));
    const entry = { endpoint, session, ready };
    this.#sessions.set(peer.node, entry);
    return entry;
  }

  #forget(node: string, session: ClientHttp2Session): void {
    if (this.#sessions.get(node)?.session === session) this.#sessions.delete(node);
  }

  /** No new streams on `session`; the open ones finish. */
  #drop(node: string, session: ClientHttp2Session): void {
    this.#forget(node, session);
    if (!session.closed && !session.destroyed) session.close();
  }

  /** New streams go on new sessions (a renewed certificate); open ones finish. */
  reset(): void {
    for (const [node, { session }] of this.#sessions) this.#drop(node, session);
  }

  close(): void {
    for (const { session } of this.#sessions.values()) session.destroy();
    this.#sessions.clear();
  }
}

function request(session: ClientHttp2Session, target: TunnelStreamTarget): Promise<Duplex> {
  const { peer, podIP, port, source, listenerOnly } = target;
  const where = `dial tcp ${podIP}:${port} via node ${peer.node}`;
  let stream: ClientHttp2Stream;
  try {
    stream = session.request({
      ':method': 'CONNECT', ':authority': `${podIP}:${port}`,
      ...(source ? { [TUNNEL_HEADERS.source]: source.port ? `${source.host}:${source.port}` : source.host } : {}),
      ...(listenerOnly ? { [LISTENER_ONLY_HEADER]: '1' } : {}),
    });
  } catch (error) {
    // the session went away between its choice and this stream
    return Promise.reject(Object.assign(new PodNetworkError('connection-refused', `${where}: ${(error as Error).message}`), { staleSession: true }));
  }
  return new Promise<Duplex>((resolve, reject) => {
    let answered = false;
    stream.on('error', () => undefined);
    stream.once('response', (headers) => {
      answered = true;
      if (headers[':status'] === 200) return resolve(stream);
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => { if (chunks.length < 64) chunks.push(chunk); });
      stream.once('end', () => {
        stream.close(constants.NGHTTP2_CANCEL);
        const code = headers[TUNNEL_HEADERS.error];
        reject(new PodNetworkError(isErrorCode(code) ? code : 'connection-refused', `${where}: ${Buffer.concat(chunks).toString('utf8').slice(0, 500)}`));
      });
    });
    stream.once('close', () => {
      if (answered) return;
      const refused = new PodNetworkError('connection-refused', `${where}: no answer (stream closed, code ${stream.rstCode ?? 'none'})`);
      // refused before any answer because the session was gone (REFUSED_STREAM, a dead connection): safe to retry
      reject(session.destroyed || session.closed || stream.rstCode === constants.NGHTTP2_REFUSED_STREAM ? Object.assign(refused, { staleSession: true }) : refused);
    });
  });
}
