// The node side of the pod network: every pod of this agent by its pod IP, the cluster's Services
// (service-table.ts), and the routing of a guest's outgoing wasi:http request (as kube-proxy and
// cluster DNS would route its connection): the pod's own loopback, another pod's IP, a Service's
// ClusterIP or DNS name (load-balanced over its Ready endpoints, round robin). Everything stays in
// the agent's process: the request is handed to the HTTP-handler container holding the port.
// A pod IP of another node (by the peers' pod CIDRs) goes to `remote` (mesh.ts: the tunnel to that
// node, or the relay); other addresses out of the cluster go out by the egress rules (egress.ts).
import type { Duplex } from 'node:stream';
import type { DesiredPeer, DesiredService } from '../../api/mqtt/messages.js';
import type { StreamAcceptor } from '../../runtime/net/byte-ring.js';
import { HttpHandlerError, PodNetworkError, type HttpRequest, type HttpResponse } from '../../runtime/pod-runtime.js';
import type { PodNetwork } from '../pods/pod-network.js';
import { isLoopback, parseAuthority, type Destination } from './authority.js';
import type { Cidr } from '../../api/cidr.js';
import { DEFAULT_POD_CIDR, Egress, isPodAddress, podNetworkOf } from './egress.js';
import { lookupOutside, sendOutside, sendToEndpoint, type EgressContext } from './egress-route.js';
import type { PolicyEnd } from './policy-check.js';
import { chooseEndpoint, type EndpointRoutes } from './service-endpoint.js';
import { ServiceTable } from './service-table.js';
import { PeerTable } from './tunnel-peers.js';
import type { PeerLookup } from './peer-lookup.js';
import { NetworkPolicies } from './policy-rules.js';
import { checkEgress, checkIngress } from './policy-check.js';
import { openPodByteStream, type StreamSource } from './pod-byte-stream.js';
import { routeTcp } from './tcp-connect.js';
import { connectOutside } from './tcp-outside.js';
import { NodeUdp } from './node-udp.js';

/** Carries a request to a pod of another node (mesh.ts). */
export interface RemotePods {
  /** `sourceIP`: the calling pod's IP (the receiving node checks its ingress policies against it). */
  request(peer: DesiredPeer, podIP: string, port: number, request: HttpRequest, timeoutMs: number, sourceIP?: string): Promise<HttpResponse>;
  /** A raw TCP connection to `podIP`:`port` from pod address `from` (tunnel-tcp.ts, relay-stream.ts); rejects with PodNetworkError. */
  openStream?(peer: DesiredPeer, podIP: string, port: number, from: StreamSource | undefined, options?: RemoteStreamOptions): Promise<Duplex>;
}

export interface RemoteStreamOptions {
  /** Only a guest listener may take it: an HTTP handler's port refuses with HTTP-request-denied (NodePorts then serve HTTP). */
  listenerOnly?: boolean;
}

/** A pod of this node as the network knows it. */
export interface PodAttachment {
  namespace: string;
  name: string;
  network: PodNetwork;
  /** Being deleted: Services send it nothing while they have other endpoints here (it is stopping). */
  terminating?(): boolean;
}

/** Where a request comes from: a container of a pod of this node. */
export interface RequestSource {
  namespace: string;
  network: PodNetwork;
}

/** Time a handler gets past the request's timeout before the network gives up on it. */
const BACKSTOP_MS = 1_000;

export class NodeNetwork {
  readonly services = new ServiceTable();
  /** The other nodes: whose pod CIDR holds an IP, where their tunnels are. */
  readonly peers = new PeerTable();
  /** Owners of pod IPs no peer holds, asked of the control plane (on-demand peers, decision 043); none: not asked. */
  peerLookup: PeerLookup | undefined;
  /** Requests to pods of other nodes go here; none: they are not carried. */
  remote: RemotePods | undefined;
  /** The NetworkPolicies in force on this node's pods (policy-rules.ts). */
  readonly policies = new NetworkPolicies();
  /** Egress out of the cluster: the agent's --allow-egress, its resolver, the real network (egress.ts). */
  readonly egress = new Egress();
  readonly #outside: EgressContext = { policies: this.policies, egress: this.egress };
  /** HTTP carries endpoints out of the pod network (egress) and to other nodes whenever a carrier is set. */
  readonly #httpEndpoints: EndpointRoutes = {
    services: this.services,
    pod: (ip) => this.#pods.get(ip),
    remoteOwner: (ip) => this.#remoteOwner(ip),
    isPodAddress: (ip) => this.isPodAddress(ip),
  };
  /** Milliseconds, for session affinity timeouts. */
  constructor(private readonly now: () => number = Date.now) {}
  /** UDP between pods, to Services and out of the cluster (node-udp.ts). */
  readonly udp: NodeUdp = new NodeUdp(this, () => this.now());
  readonly #pods = new Map<string, PodAttachment>();

  /** A pod with IP `podIP` runs here; returns the function that removes it. */
  attach(podIP: string, pod: PodAttachment): () => void {
    this.#pods.set(podIP, pod);
    return () => {
      if (this.#pods.get(podIP) === pod) this.#pods.delete(podIP);
    };
  }

  /** The pod with this IP, when it runs on this node. */
  pod(podIP: string): PodAttachment | undefined {
    return this.#pods.get(podIP);
  }

  readonly #servicesChanged: Array<(services: readonly DesiredService[]) => void> = [];

  /** The Services of a new desired state. */
  setServices(services: readonly DesiredService[]): void {
    this.services.set(services);
    for (const listener of this.#servicesChanged) listener(services);
  }

  /** Calls `listener` with every new set of Services (NodePorts and LoadBalancer ports follow them). */
  onServices(listener: (services: readonly DesiredService[]) => void): void {
    this.#servicesChanged.push(listener);
  }

  #podNetwork: Cidr = DEFAULT_POD_CIDR;

  /** The cluster's pod network of a new desired state (its clusterCidr; absent: 10.42.0.0/16). */
  setClusterCidr(cidr: string | undefined): void {
    this.#podNetwork = podNetworkOf(cidr);
  }

  /** Whether `ip` is in the cluster's pod network (a pod of some node, never outside the cluster). */
  isPodAddress(ip: string): boolean {
    return isPodAddress(ip, this.#podNetwork);
  }

  /** The other nodes of a new desired state. */
  setPeers(peers: readonly DesiredPeer[]): void {
    this.peers.set(peers);
  }

  /** The node that runs `podIP` when it is not this one and a remote carrier is set (a peer, or an owner looked up earlier). */
  #remoteOwner(podIP: string): DesiredPeer | undefined {
    return this.remote && !this.#pods.has(podIP) ? this.knownOwner(podIP) : undefined;
  }

  /** The node whose pod CIDR holds `ip` as far as this node knows now: its peers, then the looked-up owners. */
  knownOwner = (ip: string): DesiredPeer | undefined => this.peers.owner(ip) ?? this.peerLookup?.cached(ip);

  /** The owner of a pod IP no peer holds, asked of the control plane (on-demand peers); rejects with PodNetworkError. */
  /** Whether owners of unknown pod IPs can be asked of the control plane (a lookup and a carrier are set). */
  canLookUp = (): boolean => Boolean(this.remote && this.peerLookup);

  async lookupOwner(podIP: string): Promise<DesiredPeer | undefined> {
    if (!this.remote || !this.peerLookup || this.#pods.has(podIP) || !this.isPodAddress(podIP)) return undefined;
    try {
      return await this.peerLookup.owner(podIP);
    } catch (error) {
      throw new PodNetworkError('destination-unavailable', `${podIP} is a pod IP of no known node, and the control plane could not say whose: ${(error as Error).message}`);
    }
  }

  /** The node that runs `podIP` when it is another one that raw TCP can reach (tcp-connect.ts). */
  remoteOwner(podIP: string): DesiredPeer | undefined {
    return this.remote?.openStream ? this.#remoteOwner(podIP) : undefined;
  }

  /** A raw TCP connection to a pod of another node (tcp-connect.ts). */
  openRemote(peer: DesiredPeer, podIP: string, port: number, from: StreamSource | undefined, options: RemoteStreamOptions = {}): Promise<Duplex> {
    if (!this.remote?.openStream) return Promise.reject(new PodNetworkError('destination-unavailable', `${podIP} runs on node ${peer.node}: no way to other nodes`));
    return this.remote.openStream(peer, podIP, port, from, options);
  }

  egressAllows(ip: string): boolean {
    return this.egress.allows(ip);
  }

  /** A raw TCP connection out of the cluster from pod `sourceIP` once egress allows it (tcp-outside.ts). */
  openOutside(sourceIP: string | undefined, ip: string, port: number): Promise<Duplex> {
    const pod = sourceIP ? this.#pods.get(sourceIP) : undefined;
    return connectOutside(this.#outside, sourceIP ? { ip: sourceIP, pod: pod && `${pod.namespace}/${pod.name}` } : undefined, ip, port);
  }

  /**
   * A raw TCP connection from a pod of another node (the tunnel, the relay) to a pod of this node,
   * once this node's ingress policies allow it; `source` counts only when it is a pod of `node`.
   * Throws PodNetworkError (destination-unavailable: no such pod here; connection-refused).
   */
  acceptFromPeer(node: string, source: StreamSource | undefined, podIP: string, port: number, options: RemoteStreamOptions = {}): Duplex {
    const target = this.#pods.get(podIP);
    if (!target) throw new PodNetworkError('destination-unavailable', `no pod with IP ${podIP} runs on this node`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new PodNetworkError('destination-IP-unroutable', `invalid port ${port}`);
    const from = source && this.vouchedSource(node, source.host) ? source : { host: '0.0.0.0', port: 0 };
    if (!this.policies.empty) checkIngress(this.policies, { ip: from.host }, { ip: podIP, pod: `${target.namespace}/${target.name}` }, port);
    if (options.listenerOnly && target.network.holder(port)?.kind === 'http') {
      throw new PodNetworkError('HTTP-request-denied', `${podIP}:${port} is the port of an HTTP handler, not of a TCP listener`);
    }
    return openPodByteStream(target.network, port, { from });
  }

  /**
   * Whether `node` may name `ip` as the source of what it sends: one of its pods (its pod CIDR), or
   * the node's own address (a NodePort or LoadBalancer connection it took, SNATed as kube-proxy
   * does with externalTrafficPolicy Cluster). Anything else counts as an unknown address (0.0.0.0).
   */
  vouchedSource(node: string, ip: string): boolean {
    if (this.knownOwner(ip)?.node === node) return true;
    const address = this.peers.byNode(node)?.address;
    return address !== undefined && address === ip && !this.isPodAddress(ip);
  }

  /** Routes a guest's outgoing request; rejects with PodNetworkError (the guest's error-code). */
  httpRequest(source: RequestSource, request: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
    const destination = parseAuthority(request.authority, request.scheme);
    if (!destination) return Promise.reject(new PodNetworkError('HTTP-request-URI-invalid', `invalid authority ${JSON.stringify(request.authority.slice(0, 100))}`));
    return this.#route(source, destination, request, timeoutMs, 0);
  }

  async #route(source: RequestSource, destination: Destination, request: HttpRequest, timeoutMs: number, aliases: number): Promise<HttpResponse> {
    if (isLoopback(destination) || destination.host === source.network.podIP) {
      return deliver(source.network, destination.port, request, timeoutMs);
    }
    if (destination.kind !== 'name') {
      const pod = this.#pods.get(destination.host);
      if (pod) return this.#deliverToPod(source, destination.host, destination.port, request, timeoutMs);
      const service = this.services.byClusterIP(destination.host);
      if (service) return this.#toService(source, service, destination, request, timeoutMs);
      const peer = this.#remoteOwner(destination.host) ?? await this.lookupOwner(destination.host);
      if (peer) return this.#toRemote(source, peer, destination.host, destination.port, request, timeoutMs);
      if (!this.isPodAddress(destination.host)) return sendOutside(this.#outside, this.#end(source), destination, request, timeoutMs);
      throw new PodNetworkError('destination-IP-prohibited', `${destination.host} is no pod of this node and no Service: its node is not known`);
    }
    const podIPs = this.services.podByName(destination.host, source.namespace);
    if (podIPs) return this.#route(source, { ...destination, host: podIPs[0]!, kind: podIPs[0]!.includes(':') ? 'ipv6' : 'ipv4' }, request, timeoutMs, aliases);
    const service = this.services.byName(destination.host, source.namespace);
    if (service?.externalName) {
      // a CNAME: the external name is looked up as the guest's resolver would, the authority kept
      const alias = parseAuthority(`${service.externalName}:${destination.port}`, request.scheme)
        ?? parseAuthority(`[${service.externalName}]:${destination.port}`, request.scheme);
      if (!alias || aliases >= MAX_ALIASES) throw new PodNetworkError('DNS-error', `lookup ${destination.host}: no such host (ExternalName ${service.externalName})`);
      return this.#route(source, alias, request, timeoutMs, aliases + 1);
    }
    if (service) return this.#toService(source, service, destination, request, timeoutMs);
    if (!outsideName(destination.host)) throw new PodNetworkError('DNS-error', `lookup ${destination.host}: no such host`);
    return sendOutside(this.#outside, this.#end(source), destination, request, timeoutMs);
  }

  /** The source pod as policies and messages name it (undefined without a pod IP). */
  #end(source: RequestSource): PolicyEnd | undefined {
    const ip = source.network.podIP;
    if (!ip) return undefined;
    const pod = this.#pods.get(ip);
    return { ip, pod: pod && `${pod.namespace}/${pod.name}` };
  }

  /**
   * The addresses `name` has for a pod (wasi:sockets/ip-name-lookup): the cluster's names as
   * `resolve`, ExternalName Services followed, and outside names through the agent's resolver when
   * the pod may reach outside the cluster (egress-route.ts).
   */
  async lookup(source: RequestSource, name: string): Promise<string[]> {
    let host = name.toLowerCase().replace(/\.$/, '');
    for (let aliases = 0; aliases <= MAX_ALIASES; aliases++) {
      const service = this.services.byName(host, source.namespace);
      if (!service?.externalName) {
        try {
          return this.resolve(source.namespace, host);
        } catch (error) {
          if (service || !outsideName(host)) throw error;
          return lookupOutside(this.#outside, this.#end(source), host);
        }
      }
      host = service.externalName;
      if (parseAuthority(host.includes(':') ? `[${host}]` : host, 'http')?.kind !== 'name') return [host];
    }
    throw new PodNetworkError('DNS-error', `lookup ${name}: no such host (too many ExternalName aliases)`);
  }

  /**
   * The addresses `name` has in the DNS of a pod in `namespace` (wasi:sockets/ip-name-lookup):
   * localhost is the loopback, a Service its ClusterIP, a headless Service its Ready pods' IPs,
   * `<hostname>.<headless service>` that pod's IP.
   * Throws PodNetworkError('DNS-error') for anything else (nothing outside the cluster resolves).
   */
  resolve(namespace: string, name: string): string[] {
    const host = name.toLowerCase().replace(/\.$/, '');
    if (host === 'localhost' || host.endsWith('.localhost')) return ['127.0.0.1', '::1'];
    const podIPs = this.services.podByName(host, namespace);
    if (podIPs) return podIPs;
    const service = this.services.byName(host, namespace);
    if (service?.clusterIP && service.clusterIP !== 'None') return [service.clusterIP];
    const pods = service ? [...new Set(service.endpoints.flatMap((group) => group.ips))] : [];
    if (pods.length === 0) throw new PodNetworkError('DNS-error', `lookup ${host}: no such host`);
    return pods;
  }

  /** Routes a guest's TCP connect (tcp-connect.ts): the acceptor it reaches (later, for another node or outside); throws PodNetworkError. */
  connect(source: RequestSource, host: string, port: number, localPort: number): StreamAcceptor | Promise<StreamAcceptor> {
    return routeTcp(this, source, host, port, localPort, this.now());
  }

  /**
   * One HTTP request to port `port` of the pod with IP `podIP` on this node, as a peer pod's would
   * arrive (the way in for port-forward and the API server's pod proxy).
   */
  requestToPod(podIP: string, port: number, request: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
    const pod = this.#pods.get(podIP);
    if (!pod) return Promise.reject(new PodNetworkError('destination-unavailable', `no pod with IP ${podIP} runs on this node`));
    return deliver(pod.network, port, request, timeoutMs);
  }

  #toService(source: RequestSource, service: DesiredService, destination: Destination, request: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
    let endpoint;
    try {
      endpoint = chooseEndpoint(this.#httpEndpoints, service, destination.port, source.network.podIP ?? '', this.now());
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (this.#pods.has(endpoint.ip)) return this.#deliverToPod(source, endpoint.ip, endpoint.port, request, timeoutMs);
    const peer = this.#remoteOwner(endpoint.ip);
    if (peer) return this.#toRemote(source, peer, endpoint.ip, endpoint.port, request, timeoutMs);
    return sendToEndpoint(this.#outside, this.#end(source), service, endpoint, request, timeoutMs, destination.kind === 'name' ? destination.host : undefined);
  }

  /** To a pod of another node once this node's egress policies allow it (the other checks ingress). */
  async #toRemote(source: RequestSource, peer: DesiredPeer, podIP: string, port: number, request: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
    const from = source.network.podIP;
    if (from && !this.policies.empty) {
      const sourcePod = this.#pods.get(from);
      checkEgress(this.policies, { ip: from, pod: sourcePod && `${sourcePod.namespace}/${sourcePod.name}` }, { ip: podIP }, port);
    }
    return this.remote!.request(peer, podIP, port, request, timeoutMs, from);
  }

  /**
   * A request from a pod of another node (the tunnel, the relay) to a pod of this node, once this
   * node's ingress policies allow it. `sourceIP` must be a pod of `node` (else it counts as unknown).
   */
  async requestFromPeer(node: string, sourceIP: string | undefined, podIP: string, port: number, request: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
    const target = this.#pods.get(podIP);
    if (!target) throw new PodNetworkError('destination-unavailable', `no pod with IP ${podIP} runs on this node`);
    if (!this.policies.empty) {
      const vouched = sourceIP && (this.vouchedSource(node, sourceIP) || (await this.lookupOwner(sourceIP).catch(() => undefined))?.node === node);
      const from = sourceIP && vouched ? sourceIP : '0.0.0.0';
      checkIngress(this.policies, { ip: from }, { ip: podIP, pod: `${target.namespace}/${target.name}` }, port);
    }
    return deliver(target.network, port, request, timeoutMs);
  }

  /**
   * A request from a pod of this node to port `port` of the pod `podIP` of this node, once the
   * NetworkPolicies allow it (egress of the source, ingress of the destination).
   */
  async #deliverToPod(source: RequestSource, podIP: string, port: number, request: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
    this.admit(source.network.podIP, podIP, port);
    return deliver(this.#pods.get(podIP)!.network, port, request, timeoutMs);
  }

  /**
   * Enforces the NetworkPolicies on a TCP connection from `sourceIP` to port `port` of `podIP`:
   * egress when the source is a pod of this node, ingress when the destination is (a pod to itself
   * is always allowed). Throws PodNetworkError('connection-refused') naming the policies when denied.
   */
  admit(sourceIP: string | undefined, podIP: string, port: number): void {
    if (!sourceIP || sourceIP === podIP || this.policies.empty) return;
    const end = (ip: string) => {
      const pod = this.#pods.get(ip);
      return { ip, pod: pod && `${pod.namespace}/${pod.name}` };
    };
    const client = end(sourceIP);
    const server = end(podIP);
    if (client.pod) checkEgress(this.policies, client, server, port);
    if (server.pod) checkIngress(this.policies, client, server, port);
  }
}

/** ExternalName Services followed at most (a CNAME chain). */
const MAX_ALIASES = 8;

/** Whether a name not found in the cluster may be an outside one (not single-label, not under the cluster's domain). */
function outsideName(host: string): boolean {
  return host.includes('.') && !host.endsWith('.svc') && !host.endsWith('.cluster.local') && host !== 'cluster.local';
}

/** Hands the request to whoever holds TCP `port` of the pod. */
export async function deliver(network: PodNetwork, port: number, request: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
  const holder = network.holder(port);
  const where = `${network.host}:${port}`;
  if (!holder) throw new PodNetworkError('connection-refused', `dial tcp ${where}: connect: connection refused`);
  if (holder.kind === 'listener') {
    throw new PodNetworkError('connection-refused', `${where} is a raw TCP listener of container ${holder.container}: skiff carries HTTP only to wasi:http handler containers`);
  }
  let timer: NodeJS.Timeout | undefined;
  const backstop = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new PodNetworkError('HTTP-response-timeout', `no response from ${where} within ${timeoutMs} ms`)), timeoutMs + BACKSTOP_MS);
  });
  try {
    return await Promise.race([holder.handle(request, timeoutMs), backstop]);
  } catch (error) {
    if (error instanceof PodNetworkError) throw error;
    const message = (error as Error)?.message ?? String(error);
    // a stopping container refused it before its guest saw it: as a connection refused, safe to retry
    if (error instanceof HttpHandlerError && error.notDelivered) throw new PodNetworkError('connection-refused', `dial tcp ${where}: ${message}`);
    if (error instanceof HttpHandlerError && /no response within/.test(message)) {
      throw new PodNetworkError('HTTP-response-timeout', `${where}: ${message}`);
    }
    throw new PodNetworkError('connection-terminated', `${where}: ${message}`);
  } finally {
    clearTimeout(timer);
  }
}
