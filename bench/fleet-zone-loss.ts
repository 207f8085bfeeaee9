// The fleet benchmark's zone loss: every agent of one zone vanishes at once (FullDisruption while the
// other zones are healthy: Kubernetes taints its nodes NoExecute at the normal rate, 0.1 nodes/s),
// and 60 % of another zone (PartialDisruption of a large zone: the secondary rate, 0.01 nodes/s),
// timed by watches of Nodes and Pods started before. Reports how many pods each zone's nodes lost to
// eviction over a window, and when each lost node got its taints.
import type { Node } from '../api/types/node.js';
import type { Pod } from '../api/types/pod.js';
import type { KubeClient } from '../cli/kube-client.js';
import type { FleetWorkers } from './fleet-workers.js';
import { summarize } from './percentiles.js';

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
  /** Nodes tainted NoExecute per second in a zone (decision 070). */
  nodeEvictionRate: number;
  secondaryNodeEvictionRate: number;
}

const PARTIAL = 0.6;
const NOT_READY_DEADLINE_MS = 120_000;
const MARKS_S = [5, 40, 60, 120];
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

  // nodes: when each lost node is seen no longer Ready, by a watch that is started again (after a
  // fresh list) if the server ends it, so a dropped stream cannot pass for nodes that stay Ready
  const notReadyAt = new Map<string, number>();
  let allNotReady!: () => void;
  const allNotReadyP = new Promise<void>((r) => { allNotReady = r; });
  let lostAt = Infinity;
  const seen = (node: Node) => {
    const name = node.metadata.name!;
    if (!lost.has(name) || isReady(node) || notReadyAt.has(name)) return;
    notReadyAt.set(name, Math.max(0, performance.now() - lostAt));
    if (notReadyAt.size === lost.size) allNotReady();
  };
  let watchRestarts = 0;
  const followNodes = async (): Promise<void> => {
    while (!o.signal.aborted && notReadyAt.size < lost.size) {
      const list = await o.client.request<{ items: Node[]; metadata: { resourceVersion: string } }>('GET', '/api/v1/nodes');
      for (const n of list.body.items) seen(n);
      await o.client.watch<Node>(`/api/v1/nodes?resourceVersion=${list.body.metadata.resourceVersion}`, (e) => {
        if (e.type === 'ADDED' || e.type === 'MODIFIED') seen(e.object);
      }, o.signal).catch(() => undefined);
      if (o.signal.aborted) return;
      watchRestarts++;
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  const presenceBefore = await presenceReceived(o.client);
  void followNodes().catch(() => undefined);
  const queue = sampleTaintQueue(o.client, o.signal);

  const lostAtWall = Date.now();
  lostAt = performance.now();
  await o.workers.vanish([...lost]);
  await Promise.race([allNotReadyP, new Promise((r) => setTimeout(r, NOT_READY_DEADLINE_MS))]);
  const notReadyMs = performance.now() - lostAt;
  const presenceAfterDeadline = await presenceReceived(o.client);
  await new Promise((r) => setTimeout(r, o.windowMs));
  const windowEnd = performance.now();
  const detection = await detectionOnServer(o.client, lost, lostAtWall, notReadyAt, zoneOfNode);
  const taintQueue = queue.stop();
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
    allLostNodesNotReadyMs: notReadyAt.size === lost.size ? Math.round(notReadyMs) : `only ${notReadyAt.size}/${lost.size} within ${NOT_READY_DEADLINE_MS / 1000} s`,
    // as the bench's Node watch saw them, from the moment the sockets were destroyed
    lostNodesNotReadyWithin: withinMarks([...notReadyAt.values()]),
    nodeWatchRestarts: watchRestarts,
    // Wills (offline presence) the control plane's MQTT client received, of lost.size
    willsReceivedByControlPlane: { byDeadline: presenceAfterDeadline - presenceBefore },
    detection,
    windowAfterNotReadyMs: o.windowMs,
    fullZone: { zone: full, nodes: fullNodes.length, expected: `FullDisruption while other zones are healthy: NoExecute on one node at once, then ${o.nodeEvictionRate} nodes/s, as Kubernetes`, ...summary(full) },
    partialZone: { zone: partial, nodes: members.get(partial)!.length, lost: partialNodes.length, expected: `PartialDisruption (>= 55 % not Ready) of a large zone (> 50 nodes): at most one node at once, then ${o.secondaryNodeEvictionRate} nodes/s`, ...summary(partial) },
    otherZones: { zones: others.length, evictions: otherEvictions },
    // the node lifecycle controller's work queue, read from /metrics every second from the loss on
    taintQueue,
  };
}

const TAINT_QUEUE = 'node-lifecycle-controller';

/** Reads the taint controller's queue metrics every second until stopped: depth, adds, reconciles, retries. */
function sampleTaintQueue(client: KubeClient, signal: AbortSignal): { stop(): object } {
  const samples: Array<{ s: number; depth: number; adds: number; reconciles: number; workSeconds: number; retries: number }> = [];
  const started = performance.now();
  let stopped = false;
  const metric = (text: string, name: string) => {
    const line = new RegExp(`^${name}\\{name="${TAINT_QUEUE}"\\} ([0-9.e+-]+)`, 'm').exec(text);
    return line ? Number(line[1]) : NaN;
  };
  const loop = async () => {
    while (!stopped && !signal.aborted) {
      const at = performance.now();
      const text = (await client.request<string>('GET', '/metrics').catch(() => undefined))?.text;
      if (text) {
        samples.push({
          s: Math.round((at - started) / 100) / 10,
          depth: metric(text, 'workqueue_depth'),
          adds: metric(text, 'workqueue_adds_total'),
          reconciles: metric(text, 'workqueue_work_duration_seconds_count'),
          workSeconds: Number(metric(text, 'workqueue_work_duration_seconds_sum').toFixed(3)),
          retries: metric(text, 'workqueue_retries_total'),
        });
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - at))));
    }
  };
  void loop();
  return {
    stop: () => {
      stopped = true;
      const first = samples[0];
      const last = samples.at(-1);
      const delta = (k: 'adds' | 'reconciles' | 'workSeconds' | 'retries') => (first && last ? Number((last[k] - first[k]).toFixed(3)) : null);
      return { maxDepth: Math.max(0, ...samples.map((x) => x.depth)), adds: delta('adds'), reconciles: delta('reconciles'), workSeconds: delta('workSeconds'), retries: delta('retries'), samples };
    },
  };
}

/** How many of `delays` (ms) are at most 5, 40, 60 and 120 s. */
function withinMarks(delays: number[]): Record<string, number> {
  return Object.fromEntries(MARKS_S.map((s) => [`${s}s`, delays.filter((d) => d <= s * 1000).length]));
}

/** MQTT presence messages (agents' online announcements and Wills) the control plane received so far. */
async function presenceReceived(client: KubeClient): Promise<number> {
  const res = await client.request<string>('GET', '/metrics');
  const line = /^skiff_mqtt_messages_received_total\{kind="presence"\} (\d+)/m.exec(res.text);
  return line ? Number(line[1]) : NaN;
}

/**
 * What the control plane wrote for the lost nodes: why each went NotReady (its Will, or the
 * lifecycle check's grace period) and when (the Ready condition's lastTransitionTime, whole
 * seconds, against the wall clock at the loss), and how many are still Ready.
 */
async function detectionOnServer(client: KubeClient, lost: Set<string>, lostAtWall: number, seenAt: Map<string, number>, zoneOfNode: Map<string, string>): Promise<object> {
  const nodes = (await client.request<{ items: Node[] }>('GET', '/api/v1/nodes')).body.items.filter((n) => lost.has(n.metadata.name!));
  const by = { will: [] as number[], gracePeriod: [] as number[], other: [] as number[] };
  const tainted: number[] = [];
  const noSchedule: number[] = [];
  const noExecuteByZone: Record<string, number> = {};
  const watchLag: number[] = [];
  let stillReady = 0;
  for (const n of nodes) {
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
    if (!ready || ready.status === 'True') {
      stillReady++;
      continue;
    }
    const delay = Date.parse(ready.lastTransitionTime ?? '') - lostAtWall;
    const list = ready.message?.includes('MQTT Will') ? by.will : ready.message?.includes('stopped posting') ? by.gracePeriod : by.other;
    list.push(delay);
    const taint = n.spec.taints?.find((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute');
    if (taint?.timeAdded) tainted.push(Date.parse(taint.timeAdded) - lostAtWall);
    if (taint) noExecuteByZone[zoneOfNode.get(n.metadata.name!) ?? ''] = (noExecuteByZone[zoneOfNode.get(n.metadata.name!) ?? ''] ?? 0) + 1;
    const cordon = n.spec.taints?.find((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoSchedule');
    if (cordon?.timeAdded) noSchedule.push(Date.parse(cordon.timeAdded) - lostAtWall);
    const seen = seenAt.get(n.metadata.name!);
    if (seen !== undefined) watchLag.push(seen - delay);
  }
  const seconds = (delays: number[]) => summarize(delays.map((d) => d / 1000));
  const describe = (delays: number[]) => ({ count: delays.length, transitionSecondsAfterLoss: seconds(delays) });
  return {
    stillReady, byWill: describe(by.will), byGracePeriod: describe(by.gracePeriod), other: describe(by.other),
    // the node lifecycle controller's NoExecute taint (it follows the Ready condition through its informer)
    unreachableTaintSecondsAfterLoss: seconds(tainted),
    unreachableNoExecuteByZone: noExecuteByZone,
    // the NoSchedule taint is not rate-limited: every lost node gets it as it goes NotReady
    unreachableNoScheduleSecondsAfterLoss: seconds(noSchedule),
    // how long after the condition's transition (whole seconds) the bench's watch saw the node NotReady
    watchSawItSecondsLater: seconds(watchLag),
  };
}
