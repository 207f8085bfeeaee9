// This node's part of the mesh between agents: its certificate (credentials/node-certificate.ts), the
// tunnel it serves on the node IP (tunnel-server.ts) and the one it sends through (tunnel-client.ts),
// and the relay through the control plane (relay-client.ts) for peers it cannot reach directly
// (edge NAT, a firewall): NodeNetwork hands it every request for a pod IP of another node.
//   mode `auto` (default): direct; a peer found unreachable goes by relay for UNREACHABLE_MS, then
//   direct is tried again. `direct`: never relay. `relay`: never direct.
import type { Duplex } from 'node:stream';
import type { DesiredPeer } from '../../api/mqtt/messages.js';
import { PodNetworkError, type HttpRequest, type HttpResponse } from '../../runtime/pod-runtime.js';
import type { ApiAccess, NodeCertificate, NodeTls } from '../credentials/node-certificate.js';
import type { NodeNetwork, RemotePods, RemoteStreamOptions } from './node-network.js';
import type { StreamSource } from './pod-byte-stream.js';
import { TunnelClient, TunnelUnreachableError } from './tunnel-client.js';
import { TunnelServer } from './tunnel-server.js';
import { openTunnelStream, type TunnelStreamTarget } from './tunnel-tcp.js';
import { NoH2Error, TunnelSessions } from './tunnel-h2.js';
import type { DatagramSource } from '../../runtime/net/udp-messages.js';
import { openTunnelUdpLink, UdpLinks } from './udp-tunnel.js';
import { PeerLookup, type PeerFetch } from './peer-lookup.js';

export type MeshMode = 'auto' | 'direct' | 'relay';

/** The way to a peer through the control plane (relay-client.ts). */
export interface Relay {
  request(peer: DesiredPeer, podIP: string, port: number, request: HttpRequest, timeoutMs: number, sourceIP?: string): Promise<HttpResponse>;
  /** A raw TCP connection through the control plane (relay-stream.ts). */
  openStream?(peer: DesiredPeer, podIP: string, port: number, from: StreamSource | undefined, options?: RemoteStreamOptions): Promise<Duplex>;
  /** A one-way link for UDP datagram frames through the control plane (relay-udp-client.ts). */
  openDatagramLink?(peer: DesiredPeer): Promise<Duplex>;
  close?(): void;
}

/** How long a peer found unreachable is sent by relay before direct is tried again. */
export const UNREACHABLE_MS = 30_000;

export interface NodeMeshOptions {
  certificate: NodeCertificate;
  /** Where the tunnel listens: the node IP, and the port (0: any). */
  host: string;
  port: number;
  mode?: MeshMode;
  connectTimeoutMs?: number;
  /** The relay (none: peers that cannot be reached directly are not). */
  relay?: (api: () => ApiAccess | undefined) => Relay;
  now?: () => number;
  onError?: (what: string, error: Error) => void;
  /**
   * Asks the control plane which node owns a pod IP no peer holds (on-demand peers, decision 043;
   * peer-lookup-client.ts); none: such pod IPs are refused. `self`: this node's name (never its own peer).
   */
  peerLookup?: { self: string; client: (api: () => ApiAccess | undefined) => { fetch: PeerFetch; close(): void }; ttlMs?: number; negativeTtlMs?: number };
}

export class NodeMesh implements RemotePods {
  readonly client: TunnelClient;
  /** Raw TCP to each peer: streams of one HTTP/2 session (tunnel-h2.ts, decision 055). */
  readonly sessions = new TunnelSessions();
  #server: TunnelServer | undefined;
  #network: NodeNetwork | undefined;
  #api: ApiAccess | undefined;
  readonly #relay: Relay | undefined;
  readonly #lookupClient: { fetch: PeerFetch; close(): void } | undefined;
  /** Owners of pod IPs asked of the control plane (set on the network at start). */
  readonly lookup: PeerLookup | undefined;
  /** node -> until when it goes by relay, and the tunnel endpoint found unreachable (a new one is tried at once). */
  readonly #unreachable = new Map<string, { until: number; endpoint: string }>();
  #mode: MeshMode;
  #unsubscribe: (() => void) | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** The tunnel server, once the first certificate started it. */
  #starting: Promise<TunnelServer> | undefined;
  /** Requests sent each way (tests, bench). */
  readonly sent = { direct: 0, relay: 0 };
  /** Raw TCP connections opened each way (tests, bench). */
  readonly streams = { direct: 0, relay: 0 };
  /** UDP links to other nodes' tunnels (udp-tunnel.ts). */
  readonly udp: UdpLinks;
  /** UDP links through the control plane (relay-udp-client.ts), for peers whose tunnel cannot be reached. */
  readonly udpRelay: UdpLinks | undefined;
  /** Called when the tunnel's port becomes known (node status). */
  onListening: (() => void) | undefined;

  constructor(private readonly options: NodeMeshOptions) {
    this.#mode = options.mode ?? 'auto';
    this.client = new TunnelClient(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {});
    this.#relay = options.relay?.(() => this.#api);
    const lookup = options.peerLookup;
    this.#lookupClient = lookup?.client(() => this.#api);
    const fetch = this.#lookupClient?.fetch;
    this.lookup = lookup && fetch && new PeerLookup({
      fetch: async (ip) => {
        const peer = await fetch(ip);
        return peer?.node === lookup.self ? undefined : peer;
      },
      ...(options.now ? { now: options.now } : {}),
      ...(lookup.ttlMs !== undefined ? { ttlMs: lookup.ttlMs } : {}),
      ...(lookup.negativeTtlMs !== undefined ? { negativeTtlMs: lookup.negativeTtlMs } : {}),
    });
    this.udp = new UdpLinks((peer) => openTunnelUdpLink(this.client.tls, this.client.agentFor(peer.node), peer, this.client.connectTimeout()), options.now);
    const relay = this.#relay;
    this.udpRelay = relay?.openDatagramLink ? new UdpLinks((peer) => relay.openDatagramLink!(peer), options.now, 'relay') : undefined;
  }

  get mode(): MeshMode {
    return this.#mode;
  }

  /** Switches how other nodes' pods are reached (e.g. relay only behind a NAT found later). */
  setMode(mode: MeshMode): void {
    this.#mode = mode;
    this.#unreachable.clear();
  }

  /** The tunnel's port once it listens. */
  get port(): number | undefined {
    return this.#server?.port;
  }

  /** Loads the stored certificate and serves the tunnel with it (when there is one yet), for `network`. */
  async start(network: NodeNetwork): Promise<void> {
    this.#network = network;
    network.remote = this;
    if (this.lookup) network.peerLookup = this.lookup;
    network.udp.remote = (peer, from, podIP, port, data) => this.#sendDatagram(peer, from, podIP, port, data);
    this.#unsubscribe = this.options.certificate.onChange((tls) => void this.#useTls(tls).catch((e: Error) => this.options.onError?.('tunnel', e)));
    const tls = this.options.certificate.current ?? await this.options.certificate.load();
    if (tls) await this.#useTls(tls);
    this.#renewTimer = setInterval(() => void this.options.certificate.maintain(this.#api), 3600_000);
    this.#renewTimer.unref();
  }

  /** The control plane's API (its presence): certificates are asked for there, relayed requests sent there. */
  controlPlane(api: ApiAccess | undefined): void {
    if (!api) return;
    this.#api = api;
    void this.options.certificate.maintain(api);
  }

  async #useTls(tls: NodeTls): Promise<void> {
    if (this.#closed) return;
    this.client.setTls(tls);
    this.sessions.reset();
    // one server: a certificate arriving while it starts (load() notifies onChange too) waits for it, then is swapped in
    const first = !this.#starting;
    this.#starting ??= this.#startServer(tls).catch((error: Error) => {
      this.#starting = undefined; // the next certificate (or restart) tries again
      throw error;
    });
    const server = await this.#starting;
    if (!first) server.setTls(tls);
  }

  async #startServer(tls: NodeTls): Promise<TunnelServer> {
    const network = this.#network!;
    const server = await TunnelServer.start({
      host: this.options.host, port: this.options.port, tls,
      runs: (podIP) => network.pod(podIP) !== undefined,
      deliver: (node, sourceIP, podIP, port, request, timeoutMs) => network.requestFromPeer(node, sourceIP, podIP, port, request, timeoutMs),
      acceptStream: (node, source, podIP, port, options) => network.acceptFromPeer(node, source, podIP, port, options),
      acceptDatagram: (node, frame) => network.udp.fromPeer(node, frame),
    });
    this.#server = server;
    if (this.#closed) await server.close();
    else this.onListening?.();
    return server;
  }

  request(peer: DesiredPeer, podIP: string, port: number, request: HttpRequest, timeoutMs: number, sourceIP?: string): Promise<HttpResponse> {
    return this.#via(peer, podIP, port, this.sent,
      () => this.client.request(peer, podIP, port, request, timeoutMs, sourceIP),
      this.#relay && (() => this.#relay!.request(peer, podIP, port, request, timeoutMs, sourceIP)));
  }

  /** A raw TCP connection to a pod of another node: over its tunnel, or through the relay (decision 037). */
  openStream(peer: DesiredPeer, podIP: string, port: number, from: StreamSource | undefined, options: RemoteStreamOptions = {}): Promise<Duplex> {
    const relay = this.#relay?.openStream ? () => this.#relay!.openStream!(peer, podIP, port, from, options) : undefined;
    return this.#via(peer, podIP, port, this.streams,
      () => this.#openDirect({ peer, podIP, port, source: from, ...options }),
      relay);
  }

  /**
   * A datagram to a pod of another node: over its tunnel; by relay when the mode says so, or (auto)
   * when the tunnel's link cannot be opened, until UNREACHABLE_MS passed (decision 054, "By relay").
   */
  #sendDatagram(peer: DesiredPeer, from: DatagramSource, podIP: string, port: number, data: Uint8Array): void | Promise<void> {
    const mode = this.#mode;
    const relay = this.udpRelay;
    if (mode === 'relay') {
      if (!relay) throw new PodNetworkError('destination-unavailable', `dial udp ${podIP}:${port} on node ${peer.node}: no relay`);
      return relay.send(peer, from, podIP, port, data);
    }
    const now = (this.options.now ?? Date.now)();
    const endpoint = `${peer.address ?? ''}:${peer.port}`;
    const unreachable = this.#unreachable.get(peer.node);
    if (mode === 'auto' && relay && unreachable && unreachable.until > now && unreachable.endpoint === endpoint) return relay.send(peer, from, podIP, port, data);
    const fallBack = (error: unknown) => {
      if (mode !== 'auto' || !relay || !(error instanceof PodNetworkError)) throw error;
      this.#unreachable.set(peer.node, { until: now + UNREACHABLE_MS, endpoint });
      return relay.send(peer, from, podIP, port, data);
    };
    let sent;
    try {
      sent = this.udp.send(peer, from, podIP, port, data);
    } catch (error) {
      return fallBack(error);
    }
    return sent instanceof Promise ? sent.catch(fallBack) : sent;
  }

  /** A stream of the peer's HTTP/2 session; an upgraded HTTP/1.1 request of its own when the peer's tunnel has no HTTP/2 (an older agent). */
  async #openDirect(target: TunnelStreamTarget): Promise<Duplex> {
    try {
      return await this.sessions.open(this.client.tls, target, this.client.connectTimeout());
    } catch (error) {
      if (!(error instanceof NoH2Error)) throw error;
      return openTunnelStream(this.client.tls, this.client.agentFor(target.peer.node), target, this.client.connectTimeout());
    }
  }

  /** Direct first unless the peer was found unreachable lately (auto) or the mode says otherwise; the relay when direct cannot be reached. */
  async #via<T>(peer: DesiredPeer, podIP: string, port: number, count: { direct: number; relay: number }, direct: () => Promise<T>, relay: (() => Promise<T>) | undefined): Promise<T> {
    const mode = this.#mode;
    const now = (this.options.now ?? Date.now)();
    const endpoint = `${peer.address ?? ''}:${peer.port}`;
    const unreachable = this.#unreachable.get(peer.node);
    const directFirst = mode === 'direct' || (mode === 'auto' && (!unreachable || unreachable.until <= now || unreachable.endpoint !== endpoint));
    if (directFirst) {
      try {
        const answer = await direct();
        count.direct++;
        this.#unreachable.delete(peer.node);
        return answer;
      } catch (error) {
        if (!(error instanceof TunnelUnreachableError)) throw error;
        if (mode === 'direct' || !relay) {
          throw new PodNetworkError('destination-unavailable', `${podIP}:${port} runs on node ${peer.node}, which cannot be reached: ${error.message}`);
        }
        this.#unreachable.set(peer.node, { until: now + UNREACHABLE_MS, endpoint });
      }
    }
    if (!relay) throw new PodNetworkError('destination-unavailable', `${podIP}:${port} runs on node ${peer.node}: no relay`);
    const answer = await relay();
    count.relay++;
    return answer;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#renewTimer);
    this.#unsubscribe?.();
    if (this.#network?.remote === this) this.#network.remote = undefined;
    if (this.#network) this.#network.udp.remote = undefined;
    if (this.#network?.peerLookup === this.lookup) this.#network!.peerLookup = undefined;
    this.#lookupClient?.close();
    this.udp.close();
    this.udpRelay?.close();
    this.client.close();
    this.sessions.close();
    this.#relay?.close?.();
    await this.#starting?.then((server) => server.close(), () => undefined);
  }
}
