// Which changes of bound pods can let a pod that fit no node fit now: kube-scheduler's QueueingHints
// for AssignedPodDelete / AssignedPodUpdate / AssignedPodAdd (NodeResourcesFit, NodePorts,
// InterPodAffinity, PodTopologySpread, and DefaultPreemption's view of them). A bound pod deleted,
// finished or shrunk frees room on its node only: a waiting pod is sent round again when it now fits
// that node (or could preempt there, which the freed room may have made possible), not every waiting
// pod at each deletion. A placed pod that comes, goes or is relabelled matters to the waiting pods
// whose required pod (anti-)affinity or DoNotSchedule topology spread its labels match.
import type { Node } from '../../api/types/node.js';
import { isTerminalPhase, type Pod } from '../../api/types/pod.js';
import { matchesLabelSelector } from '../../api/label-selector.js';
import { fitsNode, podRequests, cachedHostPorts, type NodeUsage } from './node-fit.js';
import { requiredAffinityTerms, termMatches } from './pod-affinity.js';
import { podPriority } from './preemption.js';
import { spreadConstraintsOf } from './topology-spread.js';

/** A bound pod that holds room and counts for affinity and spread (not finished). */
const isPlaced = (pod: Pod | undefined): pod is Pod => Boolean(pod?.spec.nodeName) && !isTerminalPhase(pod!.status?.phase);

/** What one bound-pod event changed, for the hints below; undefined when it cannot help any pod. */
export interface BoundPodChange {
  /** The node where room was freed (deleted, finished, smaller requests, host ports released). */
  freedOn?: string;
  /** The pod that freed it (its priority says whether preemption may now find room). */
  freedBy?: Pod;
  /** A placed pod's version that left (deleted, finished, relabelled) or came (bound, relabelled). */
  gone?: Pod;
  came?: Pod;
}

/** Classifies a bound pod's event: old (undefined: new) -> now (undefined: deleted). */
export function boundPodChange(old: Pod | undefined, now: Pod | undefined): BoundPodChange | undefined {
  const was = isPlaced(old) ? old : undefined;
  const is = isPlaced(now) ? now : undefined;
  const change: BoundPodChange = {};
  if (was && (!is || roomShrank(was, is))) {
    change.freedOn = was.spec.nodeName!;
    change.freedBy = was;
  }
  const relabelled = was && is && (was.spec.nodeName !== is.spec.nodeName || !sameLabels(was, is));
  if (was && (!is || relabelled)) change.gone = was;
  if (is && (!was || relabelled)) change.came = is;
  return change.freedOn || change.gone || change.came ? change : undefined;
}

function roomShrank(was: Pod, is: Pod): boolean {
  const a = podRequests(was);
  const b = podRequests(is);
  if (b.cpuMillis < a.cpuMillis || b.memoryBytes < a.memoryBytes) return true;
  const ports = new Set(cachedHostPorts(is));
  return cachedHostPorts(was).some((p) => !ports.has(p));
}

function sameLabels(a: Pod, b: Pod): boolean {
  const la = a.metadata.labels ?? {};
  const lb = b.metadata.labels ?? {};
  const keys = Object.keys(la);
  return keys.length === Object.keys(lb).length && keys.every((k) => la[k] === lb[k]);
}

/** What the freed-room hint reads of the node where room was freed, computed once per event. */
export interface FreedNode {
  node: Node;
  /** Usage of that node as `pod` counts it (bound pods and nominated pods that outrank it). */
  usageFor(pod: Pod): NodeUsage | undefined;
  /** The lowest priority among the pods still on the node (Infinity when none). */
  lowestPriority(): number;
}

/** May `waiting` fit now, after `change`? `freed` describes change.freedOn (absent: the node is unknown). */
export function boundPodChangeMayHelp(waiting: Pod, change: BoundPodChange, freed: FreedNode | undefined): boolean {
  if (freed && change.freedBy) {
    if (fitsNode(waiting, freed.node, freed.usageFor(waiting)).fits) return true;
    // preemption weighs pods below the waiting pod's priority as removable: room freed by a pod that
    // was not counts now, where such pods remain
    const priority = podPriority(waiting);
    if (waiting.spec['preemptionPolicy'] !== 'Never' && podPriority(change.freedBy) >= priority && freed.lowestPriority() < priority) return true;
  }
  return Boolean((change.gone || change.came) && placedPodMayHelp(waiting, change.gone, change.came));
}

/** InterPodAffinity's and PodTopologySpread's hints for a placed pod that left (`gone`) or came. */
export function placedPodMayHelp(waiting: Pod, gone: Pod | undefined, came: Pod | undefined): boolean {
  const terms = requiredAffinityTerms(waiting);
  if (came && terms.affinity.some((t) => termMatches(t, waiting, came))) return true;
  if (gone && terms.antiAffinity.some((t) => termMatches(t, waiting, gone))) return true;
  // an existing pod's required anti-affinity keeps the waiting pod out of its domain (symmetry)
  if (gone && requiredAffinityTerms(gone).antiAffinity.some((t) => termMatches(t, gone, waiting))) return true;
  for (const c of spreadConstraintsOf(waiting)) {
    if (c.whenUnsatisfiable !== 'DoNotSchedule') continue; // ScheduleAnyway only scores
    for (const p of [gone, came]) {
      if (p && p.metadata.namespace === waiting.metadata.namespace && matchesLabelSelector(c.labelSelector, p.metadata.labels)) return true;
    }
  }
  return false;
}
