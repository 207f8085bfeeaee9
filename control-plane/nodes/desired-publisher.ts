// Publishes each node's desired state over the NodeChannel, in parts (decision 057): the node's
// pods (images resolved to digests) with their config on `nodes/{node}/desired`, its compiled
// NetworkPolicies on `nodes/{node}/desired/policies`, and the Services and peers, the same for
// every node, once on cluster-wide topics. A change resends only the part it touches. Each part's
// generation is the store revision it was read at, so agents can order parts across control-plane
// restarts. The ConfigMaps and Secrets the node's pods reference travel with its pods (Secrets
// only to such nodes), and a change to one republishes exactly the nodes that reference it.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../api/clock.js';
import type { DesiredPeer, DesiredPod, DesiredService, DesiredStateMessage, ImageResolution } from '../../api/mqtt/messages.js';
import type { KubeObject } from '../../api/types/meta.js';
import { DESIRED_PARTS, MAX_PAYLOAD_BYTES, PROTOCOL_VERSION } from '../../api/mqtt/messages.js';
import type { Node } from '../../api/types/node.js';
import { isTerminalPhase, type Pod } from '../../api/types/pod.js';
import type { NodeChannel } from '../node-channel/node-channel.js';
import type { ComponentRegistry } from '../registry/component-registry.js';
import type { ImageResolver } from '../registry/image-resolver.js';
import { isOciReference } from '../registry/oci/oci-reference.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes, type ResourceType } from '../resources/resource-types.js';
import { POD_IP_ANNOTATION } from '../../api/pod-addresses.js';
import type { InformerHandler } from '../reconcile/informer.js';
import { SharedInformers } from '../reconcile/shared-informers.js';
import { WorkQueue, type ReconcileResult, type WorkQueueObserver } from '../reconcile/work-queue.js';
import { podConfigRefs, readConfigData, type ConfigRefs } from './pod-config-refs.js';
import { localPathDir } from '../../api/local-path.js';
import type { PersistentVolume } from '../resources/kinds/config.js';
import { nodeLocalVolumes, nodesOfVolume, resolvePodVolumes, volumePath } from './node-volumes.js';
import { desiredServices } from './desired-services.js';
import { awaitsPodIP, DesiredStateTooLargeError, desiredView, finishedView } from './desired-pod-view.js';
export { DesiredStateTooLargeError } from './desired-pod-view.js';
import { desiredPeers, endpointPeers, PEERS_TO_EVERY_NODE_MAX } from './desired-peers.js';
import { PEERS_PART_MAX } from '../../api/mqtt/desired-parts.js';
import { DesiredParts, PART_KEYS, policiesKey } from './desired-parts-publisher.js';
import { policiesForNode } from './desired-policies.js';
import { PolicyNodes } from './desired-policy-nodes.js';
import { GoneNodes } from './gone-nodes.js';
import { IngressNodes, nodeIngress } from './desired-ingress.js';
export interface DesiredPublisherOptions {
  resources: ResourceStore;
  channel: NodeChannel;
  /** Pushes republish nodes whose images may now resolve. */
  registry: ComponentRegistry;
  images: ImageResolver;
  cpEpoch: string;
  clock: Clock;
  logger: Logger;
  queueObserver?: WorkQueueObserver;
  informers?: SharedInformers; // the process's shared caches (the publisher makes its own without)
  ingressKeysToNodes?: boolean; // Ingress TLS keys to nodes serving an Ingress TLS port (decision 075: the operator's opt-in)
  /** The pod network (--cluster-cidr, normalised), told to agents so they know pod addresses from outside ones. */
  clusterCidr?: string;
  /** Joining nodes republish the peers part (to every agent) at most once per this many ms (absent: at each). */
  peersIntervalMs?: number;
}

/** Publishes in flight: each mostly waits (store reads, a QoS 1 PUBACK); 4 queued 9,069 of 10,000 joining nodes. */
export const DESIRED_PUBLISH_WORKERS = 32;
/** The parts a node's pods message leaves to their own topics: all of them. */
const NODE_PARTS = [...DESIRED_PARTS];
const contentHash = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

export class DesiredPublisher {
  readonly #published = new Map<string, { hash: string; generation: number }>();
  readonly #podContent = new Map<string, string>(); // pod key -> hash of its desired view
  /** node -> the config objects its last desired state carried (`configmaps/ns/name`, `secrets/ns/name`) */
  readonly #configRefs = new Map<string, Set<string>>();
  /** node -> the claims and volumes its last desired state resolved (`claims/ns/name`, `volumes/name`) */
  readonly #volumeRefs = new Map<string, Set<string>>();
  readonly #queue: WorkQueue;
  /** node -> consecutive publishes with an image that may resolve later (registry unreachable...). */
  readonly #imageRetries = new Map<string, number>();
  #subscriptions: Array<() => void> = [];
  readonly informers: SharedInformers;
  readonly #ownsInformers: boolean;
  /** The Services part of every node's desired state, read once per change of Services or Endpoints. */
  #services: Promise<DesiredService[]> | undefined;
  /** Every node's peer entry (pod CIDR, tunnel), read once per change of one. */
  #peers: Promise<DesiredPeer[]> | undefined;
  /** node -> its peer entry as last seen, to republish everyone only when one changes. */
  readonly #peerKeys = new Map<string, string>();
  #endpointMemo: { all: DesiredPeer[]; services: DesiredService[]; peers: DesiredPeer[] } | undefined;
  /** The cluster's NetworkPolicies compiled once per change of policies, pods or namespaces; a change republishes the nodes whose part differs. */
  readonly #policies: PolicyNodes;
  /** The parts on their own topics (Services, peers, each node's policies), sent when their content changes. */
  readonly #parts: DesiredParts;
  #unsubscribe: (() => void) | undefined;
  /** Deleted nodes: their keys clear what the broker retains for them instead of publishing. */
  readonly #gone: GoneNodes;
  /** Nodes that serve Ingress (decision 075): their pods message carries skiff's Ingresses. */
  readonly #ingressNodes = new IngressNodes((node) => this.#queue.add(node));

  constructor(private readonly options: DesiredPublisherOptions) {
    this.#ownsInformers = !options.informers;
    this.informers = options.informers ?? new SharedInformers(options);
    this.#policies = new PolicyNodes({ resources: options.resources, nodes: () => this.#published.keys(), requeue: (node) => this.#queue.add(policiesKey(node)), logger: options.logger });
    this.#parts = new DesiredParts(options);
    this.#gone = new GoneNodes(options);
    this.#queue = new WorkQueue({
      name: 'desired-publisher',
      reconcile: (key) => this.#reconcile(key),
      clock: options.clock,
      logger: options.logger,
      workers: DESIRED_PUBLISH_WORKERS,
      ...(options.queueObserver ? { observer: options.queueObserver } : {}),
    });
  }

  /** Publishes every known node's desired state, then follows changes. */
  async start(): Promise<void> {
    const { informers } = this;
    const follow = <T extends KubeObject>(type: ResourceType, handler: InformerHandler<T>) => {
      this.#subscriptions.push(informers.for<T>(type).subscribe(handler));
    };
    follow<Pod>(resourceTypes.pods, (type, pod, old) => {
      const key = `${pod.metadata.namespace}/${pod.metadata.name}/${pod.metadata.uid}`;
      const node = pod.spec.nodeName;
      if (type === 'DELETED') {
        this.#podContent.delete(key);
        if (node) this.#queue.add(node);
        this.#policyPeersChanged();
        return;
      }
      const hash = contentHash(isTerminalPhase(pod.status?.phase) ? finishedView(pod) : desiredView(pod)); // finishing shrinks it
      if (this.#podContent.get(key) === hash) return; // a status-only change
      this.#podContent.set(key, hash);
      if (node) this.#queue.add(node);
      if (old?.spec.nodeName && old.spec.nodeName !== node) this.#queue.add(old.spec.nodeName);
      this.#policyPeersChanged();
    });
    follow<Node>(resourceTypes.nodes, (type, node) => {
      this.#ingressNodes.nodeChanged(type === 'DELETED', node);
      if (type === 'DELETED') {
        this.#gone.deleted(node.metadata.name!);
        this.#queue.add(node.metadata.name!);
        this.#queue.add(policiesKey(node.metadata.name!));
      }
      if (type === 'ADDED') {
        this.#gone.added(node.metadata.name!);
        this.#queue.add(node.metadata.name!);
        this.#queue.add(policiesKey(node.metadata.name!)); // an empty part replaces what an earlier control plane left retained
      }
      // every node routes to every other: a new address, tunnel port or pod CIDR republishes the peers part
      const key = type === 'DELETED' ? '' : JSON.stringify(desiredPeers([node]));
      const before = this.#peerKeys.get(node.metadata.name!) ?? '';
      if (before === key) return;
      const sizeBefore = this.#peerKeys.size;
      if (type === 'DELETED') this.#peerKeys.delete(node.metadata.name!);
      else this.#peerKeys.set(node.metadata.name!, key);
      this.#peers = undefined;
      void this.#peerChanged(before, key, sizeBefore).catch((error: Error) => this.options.logger.warn({ err: error.message }, 'could not judge a peer change'));
    });
    for (const type of [resourceTypes.configmaps, resourceTypes.secrets]) {
      if (!type) continue;
      follow(type, (_event, o) => {
        const key = `${type.plural}/${o.metadata.namespace}/${o.metadata.name}`;
        for (const [node, refs] of this.#configRefs) if (refs.has(key)) this.#queue.add(node);
      });
    }
    // a claim that binds, or a local volume that comes or goes, changes the nodes that use it
    for (const type of [resourceTypes.persistentvolumeclaims, resourceTypes.persistentvolumes]) {
      follow(type, (_event, o) => {
        const isVolume = type === resourceTypes.persistentvolumes;
        const key = isVolume ? `volumes/${o.metadata.name}` : `claims/${o.metadata.namespace}/${o.metadata.name}`;
        for (const [node, refs] of this.#volumeRefs) if (refs.has(key)) this.#queue.add(node);
        const path = isVolume ? volumePath(o as PersistentVolume) : undefined;
        if (path && localPathDir(path) !== undefined) {
          for (const node of nodesOfVolume(o as PersistentVolume) ?? [...this.#published.keys()]) if (this.#published.has(node)) this.#queue.add(node);
        }
      });
    }
    // every node routes to every Service: a change republishes the one Services part (and, in a
    // large cluster, the peers part: its peers are the endpoints' nodes)
    for (const type of [resourceTypes.services, resourceTypes.endpoints]) {
      follow(type, () => {
        this.#services = undefined;
        this.#queue.add(PART_KEYS.services);
        if (this.#peerKeys.size > PEERS_TO_EVERY_NODE_MAX) this.#queue.add(PART_KEYS.peers);
      });
    }
    // policies name pods of every node: a change to one, or to a namespace's labels, republishes
    // the nodes whose compiled policies differ (desired-policy-nodes.ts)
    follow(resourceTypes.networkpolicies, (event, o) => this.#policies.policyChanged(`${o.metadata.namespace}/${o.metadata.name}`, event === 'DELETED'));
    follow(resourceTypes.namespaces, this.#policyPeersChanged);
    for (const type of [resourceTypes.ingresses, resourceTypes.ingressclasses]) follow(type, () => this.#ingressNodes.ingressChanged());
    // a pushed tag may resolve images that could not be resolved before
    this.#unsubscribe = this.options.registry.onPush(() => {
      for (const node of this.#published.keys()) this.#queue.add(node);
    });
    this.#queue.add(PART_KEYS.services);
    this.#queue.add(PART_KEYS.peers);
    await informers.synced(); // every known node is queued
    this.#queue.add(PART_KEYS.retainedSweep); // and what an earlier control plane left for nodes deleted since is cleared
  }

  stop(): void {
    for (const unsubscribe of this.#subscriptions) unsubscribe();
    this.#subscriptions = [];
    if (this.#ownsInformers) this.informers.stop();
    this.#unsubscribe?.();
    this.#queue.stop();
  }

  /** A pod came, went or changed: the policies' selected pods and peers may have. */
  #policyPeersChanged = () => void (this.#policies.any && this.#policies.changed());

  /** Every node's peer entry, from the nodes informer (one pass per change of a peer, not a store list). */
  #allPeers(): Promise<DesiredPeer[]> {
    return this.#peers ??= (async () => {
      const informer = this.informers.for<Node>(resourceTypes.nodes);
      await informer.synced();
      return desiredPeers(informer.list());
    })().catch((error: unknown) => {
      this.#peers = undefined;
      throw error;
    });
  }

  /** The endpoint nodes of a large cluster, computed once per peers and Services read. */
  #endpointPeers(all: DesiredPeer[], services: DesiredService[]): DesiredPeer[] {
    const memo = this.#endpointMemo;
    if (memo && memo.all === all && memo.services === services) return memo.peers;
    const peers = endpointPeers(all, services);
    this.#endpointMemo = { all, services, peers };
    return peers;
  }

  /**
   * A node's peer entry changed (before/after: its serialised entry, '' for none). Small clusters
   * republish the peers part; large ones only when the node runs a Service endpoint or the cluster
   * crossed PEERS_TO_EVERY_NODE_MAX (decision 043): a joining node changes nobody's peers.
   */
  async #peerChanged(before: string, after: string, sizeBefore: number): Promise<void> {
    const large = (n: number) => n > PEERS_TO_EVERY_NODE_MAX;
    if (large(this.#peerKeys.size) && large(sizeBefore)) {
      const services = await this.#servicesNow();
      const entries = [before, after].filter(Boolean).flatMap((k) => JSON.parse(k) as DesiredPeer[]);
      if (endpointPeers(entries, services).length === 0) return;
    }
    // a burst of joins (up to 1,000 entries, each to every agent): once per interval, not per join
    this.#queue.addAtMostEvery(PART_KEYS.peers, this.options.peersIntervalMs ?? 0);
  }

  #servicesNow(): Promise<DesiredService[]> {
    return this.#services ??= desiredServices(this.options.resources).catch((error: unknown) => {
      this.#services = undefined;
      throw error;
    });
  }

  /** Publishes every part of every node's desired state again even if unchanged (a new control-plane epoch). */
  republishAll(): void {
    this.#parts.forget();
    for (const node of this.#published.keys()) {
      this.#published.delete(node);
      this.#queue.add(node);
      this.#queue.add(policiesKey(node));
    }
    this.#queue.add(PART_KEYS.services);
    this.#queue.add(PART_KEYS.peers);
  }

  /** Resolves when every change so far is published (policy changes' nodes queued first). */
  async idle(): Promise<void> {
    await this.#policies.settled();
    return this.#queue.idle();
  }

  #reconcile(key: string): Promise<ReconcileResult | void> {
    if (key === PART_KEYS.services) return this.#publishServices();
    if (key === PART_KEYS.peers) return this.#publishPeers();
    if (key === PART_KEYS.retainedSweep) return this.#sweepRetained();
    if (key.startsWith(PART_KEYS.policiesPrefix)) return this.#publishPolicies(key.slice(PART_KEYS.policiesPrefix.length));
    return this.#publish(key);
  }

  /** Nodes the broker retains messages for with no Node: gone (deleted while no control plane ran). */
  async #sweepRetained(): Promise<void> {
    const nodes = this.informers.for<Node>(resourceTypes.nodes);
    for (const node of await this.#gone.sweep((name) => nodes.get(undefined, name) !== undefined)) {
      this.#queue.add(node);
      this.#queue.add(policiesKey(node));
    }
  }

  /** A gone node's key: what was kept for it is dropped and its retained topics cleared (true), or false to publish. */
  async #cleared(node: string, key: string): Promise<boolean> {
    const isPolicies = key !== node;
    if (!await this.#gone.clear(node, isPolicies ? ['desiredPolicies'] : ['desired', 'presence'])) return false;
    if (isPolicies) {
      this.#parts.drop(key);
      this.#policies.forget(node);
    } else {
      for (const kept of [this.#published, this.#configRefs, this.#volumeRefs, this.#imageRetries]) kept.delete(node);
    }
    return true;
  }

  async #publishServices(): Promise<void> {
    const generation = await this.options.resources.store.currentRevision();
    await this.#parts.send(PART_KEYS.services, generation, { part: 'services', services: await this.#servicesNow() });
  }

  /** The peers every node gets (each agent leaves itself out): all nodes, or in a large cluster the endpoints' nodes. */
  async #publishPeers(): Promise<void> {
    const generation = await this.options.resources.store.currentRevision();
    const all = await this.#allPeers();
    const peers = all.length <= PEERS_TO_EVERY_NODE_MAX ? all : this.#endpointPeers(all, await this.#servicesNow()).slice(0, PEERS_PART_MAX);
    await this.#parts.send(PART_KEYS.peers, generation, { part: 'peers', peers });
  }

  async #publishPolicies(node: string): Promise<void> {
    if (await this.#cleared(node, policiesKey(node))) return;
    const generation = await this.options.resources.store.currentRevision();
    const compiled = this.#policies.current();
    const networkPolicies = policiesForNode(await compiled, node);
    // compiled before a change the recheck compared against what this publish had not stored yet: again
    if (this.#policies.stale(compiled)) this.#queue.add(policiesKey(node));
    this.#policies.carried(node, networkPolicies);
    await this.#parts.send(policiesKey(node), generation, { part: 'policies', node, networkPolicies });
  }

  async #publish(node: string): Promise<ReconcileResult | void> {
    if (await this.#cleared(node, node)) return;
    const { resources, images: resolver } = this.options;
    const list = await resources.list<Pod>(resourceTypes.pods, { fieldSelector: `spec.nodeName=${node}` });
    const generation = Number(list.metadata.resourceVersion ?? 0);
    const pods: DesiredPod[] = [];
    const resolved = new Map<string, ImageResolution>();
    let retryImages = false;
    const refs: ConfigRefs = { configMaps: new Set(), secrets: new Set() };
    const volumeRefs = new Set<string>();
    this.#volumeRefs.set(node, volumeRefs); // filled before each read: a change during this publish republishes
    const nodeObject = await resources.get<Node>(resourceTypes.nodes, undefined, node).catch(() => undefined);
    for (const pod of list.items.sort((a, b) => (a.metadata.uid! < b.metadata.uid! ? -1 : 1))) {
      if (isTerminalPhase(pod.status?.phase)) {
        pods.push(finishedView(pod));
        continue;
      }
      if (nodeObject?.spec?.podCIDR && awaitsPodIP(pod)) continue; // the scheduler is giving it an address: start it with one
      podConfigRefs(pod, refs);
      const images: Record<string, ImageResolution> = {};
      for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
        // once per publish: per image for the cluster registry, per pod for OCI ones (credentials and pins are the pod's)
        const once = `${c.image}\0${c.imagePullPolicy ?? ''}\0${isOciReference(c.image) ? pod.metadata.uid : ''}`;
        let r = resolved.get(once);
        if (!r) {
          const res = await resolver.resolve(pod, c);
          r = res.resolution;
          retryImages ||= res.retryable;
          resolved.set(once, r);
        }
        images[c.image] = r;
      }
      const podIP = pod.metadata.annotations?.[POD_IP_ANNOTATION];
      const persistentVolumes = await resolvePodVolumes(pod, resources, volumeRefs);
      pods.push({ pod: desiredView(pod), images, ...(podIP ? { podIP } : {}), ...(persistentVolumes ? { persistentVolumes } : {}) });
    }
    const configMaps = await readConfigData(resources, resourceTypes.configmaps, refs.configMaps);
    const secrets = await readConfigData(resources, resourceTypes.secrets, refs.secrets);
    const { ingress, secretRefs } = await nodeIngress(resources, nodeObject, this.options.ingressKeysToNodes === true); // skiff's Ingresses for a node that serves them
    this.#configRefs.set(node, new Set([
      ...[...refs.configMaps].map((k) => `configmaps/${k}`), ...[...refs.secrets].map((k) => `secrets/${k}`), ...secretRefs,
    ]));
    const localVolumes = await nodeLocalVolumes(node, resources);
    const { clusterCidr } = this.options;
    const hash = contentHash({ pods, configMaps, secrets, localVolumes, clusterCidr, ingress });
    const retry = this.#imageRetry(node, retryImages);
    const last = this.#published.get(node);
    if (last && last.hash === hash) return retry;
    const message: DesiredStateMessage = {
      v: PROTOCOL_VERSION, node, generation,
      cpEpoch: this.options.cpEpoch, ts: this.options.clock.now(), pods,
      ...(configMaps.length ? { configMaps } : {}),
      ...(secrets.length ? { secrets } : {}),
      localVolumes,
      ...(clusterCidr ? { clusterCidr } : {}),
      parts: NODE_PARTS, // Services, peers and policies come on their own topics
      ...(ingress ? { ingress } : {}),
    };
    const bytes = Buffer.byteLength(JSON.stringify(message));
    if (bytes > MAX_PAYLOAD_BYTES) {
      // the broker would refuse it (and drop the connection): say why instead, and retry later
      throw new DesiredStateTooLargeError(node, bytes, pods.length);
    }
    await this.options.channel.publishDesired(message);
    this.#published.set(node, { hash, generation: message.generation });
    this.options.logger.debug({ node, generation: message.generation, pods: pods.length }, 'published desired state');
    return retry;
  }

  /** Images that may resolve later are tried again: 5 s, doubling to 5 min, as the kubelet backs off pulls. */
  #imageRetry(node: string, needed: boolean): ReconcileResult | undefined {
    if (!needed) return void this.#imageRetries.delete(node);
    const tries = (this.#imageRetries.get(node) ?? 0) + 1;
    this.#imageRetries.set(node, tries);
    return { requeueAfterMs: Math.min(300_000, 5_000 * 2 ** (tries - 1)) };
  }
}
