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
import { openTunnelStream } from './tunnel-tcp.js';
import { UdpLinks } from './udp-tunnel.js';
import { PeerLookup, type PeerFetch } from './peer-lookup.js';

export type MeshMode = 'auto' | 'direct' | 'relay';

/** The way to a peer through the control plane (relay-client.ts). */
export interface Relay {
  request(peer: DesiredPeer, podIP: string, port: number, request: HttpRequest, timeoutMs: number, sourceIP?: string): Promise<HttpResponse>;
  /** A raw TCP connection through the control plane (relay-stream.ts). */
  openStream?(peer: DesiredPeer, podIP: string, port: number, from: StreamSource | undefined, options?: RemoteStreamOptions): Promise<Duplex>;
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
  /** Requests sent each way (tests, bench). */
  readonly sent = { direct: 0, relay: 0 };
  /** Raw TCP connections opened each way (tests, bench). */
  readonly streams = { direct: 0, relay: 0 };
  /** UDP links to other nodes' tunnels (udp-tunnel.ts; not relayed). */
  readonly udp: UdpLinks;
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
    this.udp = new UdpLinks(() => this.client.tls, (node) => this.client.agentFor(node), () => this.client.connectTimeout(), options.now);
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
    network.udp.remote = (peer, from, podIP, port, data) => {
      if (this.#mode === 'relay') throw new PodNetworkError('destination-unavailable', `dial udp ${podIP}:${port}: UDP is not carried by the relay (node ${peer.node})`);
      return this.udp.send(peer, from, podIP, port, data);
    };
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
    if (this.#server) return this.#server.setTls(tls);
    const network = this.#network!;
    this.#server = await TunnelServer.start({
      host: this.options.host, port: this.options.port, tls,
      runs: (podIP) => network.pod(podIP) !== undefined,
      deliver: (node, sourceIP, podIP, port, request, timeoutMs) => network.requestFromPeer(node, sourceIP, podIP, port, request, timeoutMs),
      acceptStream: (node, source, podIP, port, options) => network.acceptFromPeer(node, source, podIP, port, options),
      acceptDatagram: (node, frame) => network.udp.fromPeer(node, frame),
    });
    this.onListening?.();
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
      () => openTunnelStream(this.client.tls, this.client.agentFor(peer.node), { peer, podIP, port, source: from, ...options }, this.client.connectTimeout()),
      relay);
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
    this.client.close();
    this.#relay?.close?.();
    await this.#server?.close();
  }
}
