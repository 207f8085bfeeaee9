// The fleet benchmark's zone loss: every agent of one zone vanishes at once (FullDisruption while the
// other zones are healthy: Kubernetes evicts there at the normal rate), and 60 % of another zone
// (PartialDisruption of a large zone: the secondary rate, 0.01/s), timed by watches of Nodes and
// Pods started before. Reports how many pods each zone's nodes lost to eviction over a window.
import type { Node } from '../api/types/node.js';
import type { Pod } from '../api/types/pod.js';
import type { KubeClient } from '../cli/kube-client.js';
import type { FleetWorkers } from './fleet-workers.js';

export interface ZoneLossOptions {
  client: KubeClient;
  workers: FleetWorkers;
  names: string[];
  zones: string[];
  /** A node already lost: its zone is left alone. */
  victim: string;
  podsPath: string;
  label: string;
  windowMs: number;
  signal: AbortSignal;
  evictionsPerSecond: number;
}

const PARTIAL = 0.6;
const isReady = (n: Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

export async function zoneLoss(o: ZoneLossOptions): Promise<object> {
  const members = new Map<string, string[]>();
  o.names.forEach((name, i) => members.set(o.zones[i]!, [...(members.get(o.zones[i]!) ?? []), name]));
  const victimZone = o.zones[o.names.indexOf(o.victim)];
  const candidates = [...members.keys()].filter((z) => z !== victimZone).sort();
  const [full, partial] = [candidates.at(-1)!, candidates.at(-2)!];
  const fullNodes = members.get(full)!;
  const partialNodes = members.get(partial)!.slice(0, Math.floor(members.get(partial)!.length * PARTIAL));
  const lost = new Set([...fullNodes, ...partialNodes]);
  const zoneOfNode = new Map(o.names.map((n, i) => [n, o.zones[i]!]));

  // pods: uid -> node, and when each lost its node (deletionTimestamp or DELETED)
  const pods = await o.client.request<{ items: Pod[]; metadata: { resourceVersion: string } }>('GET', `${o.podsPath}?labelSelector=${encodeURIComponent(o.label)}`);
  const podNode = new Map(pods.body.items.filter((p) => !p.metadata.deletionTimestamp).map((p) => [p.metadata.uid!, p.spec.nodeName ?? '']));
  const evictedAt = new Map<string, number>();
  const podsOnLost = (zone: string) => [...podNode.values()].filter((n) => lost.has(n) && zoneOfNode.get(n) === zone).length;
  const before = { [full]: podsOnLost(full), [partial]: podsOnLost(partial) };
  void o.client.watch<Pod>(`${o.podsPath}?labelSelector=${encodeURIComponent(o.label)}&resourceVersion=${pods.body.metadata.resourceVersion}`, (e) => {
    const uid = e.object.metadata.uid!;
    if (!podNode.has(uid) && e.type === 'ADDED') return;
    if ((e.type === 'DELETED' || e.object.metadata.deletionTimestamp) && !evictedAt.has(uid) && podNode.has(uid)) evictedAt.set(uid, performance.now());
  }, o.signal).catch(() => undefined);

  // nodes: when every lost node is no longer Ready
  const nodes = await o.client.request<{ items: Node[]; metadata: { resourceVersion: string } }>('GET', '/api/v1/nodes');
  const notReady = new Set(nodes.body.items.filter((n) => lost.has(n.metadata.name!) && !isReady(n)).map((n) => n.metadata.name!));
  let allNotReady!: () => void;
  const allNotReadyP = new Promise<void>((r) => { allNotReady = r; });
  void o.client.watch<Node>(`/api/v1/nodes?resourceVersion=${nodes.body.metadata.resourceVersion}`, (e) => {
    const name = e.object.metadata.name!;
    if (lost.has(name) && !isReady(e.object)) notReady.add(name);
    if (notReady.size === lost.size) allNotReady();
  }, o.signal).catch(() => undefined);

  const lostAt = performance.now();
  await o.workers.vanish([...lost]);
  await Promise.race([allNotReadyP, new Promise((r) => setTimeout(r, 120_000))]);
  const notReadyMs = performance.now() - lostAt;
  await new Promise((r) => setTimeout(r, o.windowMs));
  const windowEnd = performance.now();
  const evicted = (zone: string) => [...evictedAt].filter(([uid]) => zoneOfNode.get(podNode.get(uid)!) === zone).map(([, at]) => at);
  const summary = (zone: string) => {
    const times = evicted(zone).sort((a, b) => a - b);
    const lastSecond = times.filter((t) => t > windowEnd - 10_000).length / 10;
    return {
      podsOnLostNodes: before[zone],
      evictedByEndOfWindow: times.length,
      firstEvictionAfterLossMs: times.length ? Math.round(times[0]! - lostAt) : null,
      evictionsPerSecondLast10s: Number(lastSecond.toFixed(2)),
    };
  };
  const others = [...members.keys()].filter((z) => z !== full && z !== partial);
  const otherEvictions = others.reduce((n, z) => n + evicted(z).length, 0);
  return {
    lostNodes: lost.size,
    allLostNodesNotReadyMs: notReady.size === lost.size ? Math.round(notReadyMs) : `only ${notReady.size}/${lost.size} within 120 s`,
    windowAfterNotReadyMs: o.windowMs,
    fullZone: { zone: full, nodes: fullNodes.length, expected: `FullDisruption while other zones are healthy: the primary rate (${o.evictionsPerSecond}/s), as Kubernetes`, ...summary(full) },
    partialZone: { zone: partial, nodes: members.get(partial)!.length, lost: partialNodes.length, expected: 'PartialDisruption (>= 55 % not Ready) of a large zone (> 50 nodes): the secondary rate, 0.01/s', ...summary(partial) },
    otherZones: { zones: others.length, evictions: otherEvictions },
  };
}
