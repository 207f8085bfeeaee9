// UDP between pods of two nodes over the tunnel (decision 054): one upgraded HTTPS request per
// node pair and direction, on the same mutual-TLS server as HTTP and raw TCP, carrying datagram
// frames (udp-frames.ts) from the pods of the calling node to pods of the receiving one:
//   POST / HTTP/1.1
//   Connection: Upgrade / Upgrade: skiff-udp
// 101 Switching Protocols, then frames one way (replies come over the other node's own link).
// Nodes only (a node certificate), never the Ingress gateway. The receiver judges every frame:
// the source must be a pod address of the calling node's pod CIDR (a forged one is dropped and
// counted), the destination a pod of this node, and its ingress NetworkPolicies must allow UDP
// from the source; then it is delivered (or dropped when the socket's queue is full). The sender
// keeps the link open and drops datagrams (counted) while its TLS buffer holds more than
// MAX_LINK_BUFFER_BYTES: UDP has no backpressure. A link that cannot be opened makes the first
// datagram's sender see remote-unreachable, and is retried after RETRY_MS.
import { request as httpsRequest, type Agent } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { DesiredPeer } from '../../api/mqtt/messages.js';
import type { DatagramSource } from '../../runtime/net/udp-messages.js';
import { PodNetworkError } from '../../runtime/pod-runtime.js';
import type { NodeTls } from '../credentials/node-certificate.js';
import { encodeFrame, FrameReader, type DatagramFrame } from './udp-frames.js';

export const UDP_UPGRADE = 'skiff-udp';
/** Bytes a link may have queued in its socket before datagrams are dropped. */
export const MAX_LINK_BUFFER_BYTES = 1 << 20;
/** How long a peer whose link could not be opened is not tried again. */
export const RETRY_MS = 5_000;

const NODE_CN = /^system:node:([A-Za-z0-9._-]{1,253})$/;

/** Takes one frame from node `node`: whether it was delivered. */
export type AcceptDatagram = (node: string, frame: DatagramFrame) => boolean;

/** The tunnel server's upgrade listener for `skiff-udp`: a link from another node, or a refusal. */
export function serveUdpUpgrade(accept: AcceptDatagram, _req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', () => undefined);
  const tls = socket as TLSSocket;
  const cn = tls.authorized ? tls.getPeerCertificate().subject?.CN : undefined;
  const node = typeof cn === 'string' ? NODE_CN.exec(cn)?.[1] : undefined;
  if (!node) {
    socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    return;
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${UDP_UPGRADE}\r\n\r\n`);
  const reader = new FrameReader();
  const take = (chunk: Uint8Array) => {
    for (const frame of reader.push(chunk)) accept(node, frame);
    if (reader.broken) socket.destroy(); // malformed: the link cannot be trusted to find the next frame
  };
  if (head.length > 0) take(head);
  socket.on('data', take);
  socket.resume(); // the HTTP parser may have paused it
}

interface Link {
  endpoint: string;
  socket?: Duplex;
  opening?: Promise<Duplex | undefined>;
  failedUntil?: number;
}

/** Opens a one-way link for datagram frames to a peer node (its tunnel, or the control plane's relay). */
export type OpenUdpLink = (peer: DesiredPeer) => Promise<Duplex>;

/** The sending side: one link per peer node, opened on the first datagram (by `open`: the tunnel or the relay). */
export class UdpLinks {
  readonly #links = new Map<string, Link>();
  /** Datagrams written to links, and dropped (link buffer full, no link). */
  readonly counts = { sent: 0, dropped: 0 };
  #closed = false;

  constructor(
    private readonly open: OpenUdpLink,
    private readonly now: () => number = Date.now,
    /** How the way is named in errors. */
    private readonly way = 'tunnel',
  ) {}

  /** Sends one datagram to a pod of `peer`; resolves once written, rejects (remote-unreachable) when there is no link. */
  send(peer: DesiredPeer, from: DatagramSource, podIP: string, port: number, data: Uint8Array): void | Promise<void> {
    const frame = encodeFrame(from, { host: podIP, port }, data);
    const endpoint = `${peer.address ?? ''}:${peer.port}`;
    let link = this.#links.get(peer.node);
    if (link && link.endpoint !== endpoint) {
      link.socket?.destroy();
      this.#links.delete(peer.node);
      link = undefined;
    }
    if (link?.socket) return this.#write(link.socket, frame);
    if (link?.failedUntil !== undefined && link.failedUntil > this.now()) {
      this.counts.dropped++;
      throw new PodNetworkError('destination-unavailable', `dial udp ${podIP}:${port}: the ${this.way} to node ${peer.node} cannot be reached`);
    }
    if (!link?.opening) {
      link = { endpoint };
      this.#links.set(peer.node, link);
      const opened = link;
      opened.opening = this.open(peer).then((socket) => {
        opened.opening = undefined;
        if (this.#closed || this.#links.get(peer.node) !== opened) {
          socket.destroy();
          return undefined;
        }
        opened.socket = socket;
        socket.once('close', () => {
          if (this.#links.get(peer.node) === opened) this.#links.delete(peer.node);
        });
        return socket;
      }, () => {
        opened.opening = undefined;
        opened.failedUntil = this.now() + RETRY_MS;
        return undefined;
      });
    }
    return link!.opening!.then((socket) => {
      if (!socket) {
        this.counts.dropped++;
        throw new PodNetworkError('destination-unavailable', `dial udp ${podIP}:${port}: the ${this.way} to node ${peer.node} cannot be reached`);
      }
      this.#write(socket, frame);
    });
  }

  close(): void {
    this.#closed = true;
    for (const link of this.#links.values()) link.socket?.destroy();
    this.#links.clear();
  }

  #write(socket: Duplex, frame: Uint8Array): void {
    if (socket.writableLength > MAX_LINK_BUFFER_BYTES) {
      this.counts.dropped++;
      return;
    }
    socket.write(frame);
    this.counts.sent++;
  }
}

/** A link to `peer`'s tunnel (mutual TLS, the peer's node certificate checked). */
export function openTunnelUdpLink(tls: NodeTls | undefined, agent: Agent, peer: DesiredPeer, connectTimeoutMs: number): Promise<Duplex> {
  if (!tls || !peer.address || !peer.port) return Promise.reject(new Error(`no tunnel to node ${peer.node}`));
  const expected = `system:node:${peer.node}`;
  return new Promise<Duplex>((resolve, reject) => {
    const req = httpsRequest({
      host: peer.address, port: peer.port, method: 'POST', path: '/', agent,
      headers: { connection: 'Upgrade', upgrade: UDP_UPGRADE },
      key: tls.key, cert: tls.cert, ca: tls.caCert, servername: '',
      checkServerIdentity: (_host: string, cert: PeerCertificate) =>
        (cert.subject?.CN === expected ? undefined : new Error(`the tunnel at ${peer.address}:${peer.port} is ${String(cert.subject?.CN)}, not ${expected}`)),
    });
    const timer = setTimeout(() => req.destroy(new Error('timeout')), connectTimeoutMs);
    req.on('upgrade', (_res, socket) => {
      clearTimeout(timer);
      socket.on('error', () => undefined);
      socket.on('data', () => undefined); // nothing comes this way
      socket.resume();
      resolve(socket);
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      res.resume();
      reject(new Error(`node ${peer.node} refused the UDP link: ${res.statusCode}`));
    });
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}
