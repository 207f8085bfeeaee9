// Which Node changes can let a pod that fit no node fit now: kube-scheduler's QueueingHints for node
// events. A node that becomes NotReady, gets a taint or loses room can never make a waiting pod fit,
// so it does not send every unschedulable pod through a full placement and preemption plan again:
// when a zone of 1,600 nodes dropped, their NotReady and taint writes (3,200 events) did exactly
// that, and the replacements' scheduling held the control plane's loop for minutes.
import { parseQuantity } from '../../api/quantity.js';
import type { Node } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { fitsNode, isNodeReady, type NodeUsage } from './node-fit.js';
import { hasPodAffinity } from './pod-affinity.js';
import { spreadConstraintsOf } from './topology-spread.js';

type Taint = { key?: string; value?: string; effect?: string };

/** True when `node` (undefined: deleted) may fit a pod that `old` (undefined: new) did not. */
export function nodeChangeMayHelp(old: Node | undefined, node: Node | undefined): boolean {
  // a new node, and a deleted one (topology spread counts domains by the nodes there are)
  if (!old || !node) return true;
  if (JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(node.metadata.labels ?? {})) return true;
  if (!isNodeReady(old) && isNodeReady(node)) return true;
  if (old.spec?.unschedulable && !node.spec?.unschedulable) return true;
  if (taintRemoved(old, node)) return true;
  if (roomGrew(old, node)) return true;
  // any other spec change is taken as one that may help (nothing else in spec only narrows a fit)
  return JSON.stringify(otherSpec(old)) !== JSON.stringify(otherSpec(node));
}

/**
 * For one waiting pod, after a change nodeChangeMayHelp let through (kube's per-plugin hints): the
 * pod now fits this node (its filters and free room; volumes are checked at the try), or the node's
 * topology domains changed (added, deleted, relabelled) and the pod's placement depends on domains
 * (its spread or pod affinity, or some placed pod's affinity: `relational`).
 */
export function nodeChangeMayHelpPod(pod: Pod, node: Node | undefined, usage: NodeUsage | undefined, domainsChanged: boolean, relational: boolean): boolean {
  if (domainsChanged && (relational || hasPodAffinity(pod) || spreadConstraintsOf(pod).length > 0)) return true;
  return node !== undefined && fitsNode(pod, node, usage).fits;
}

/** Did the node come, go, or change its labels (the topology domains it belongs to)? */
export function domainsChanged(old: Node | undefined, node: Node | undefined): boolean {
  return !old || !node || JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(node.metadata.labels ?? {});
}

function taintRemoved(old: Node, node: Node): boolean {
  const now = new Set(((node.spec?.taints ?? []) as Taint[]).map(taintKey));
  return ((old.spec?.taints ?? []) as Taint[]).some((t) => !now.has(taintKey(t)));
}

const taintKey = (t: Taint) => `${t.key ?? ''}\0${t.value ?? ''}\0${t.effect ?? ''}`;

/** Some allocatable resource appeared or grew (an unparsable one counts as changed when its text did). */
function roomGrew(old: Node, node: Node): boolean {
  const before = (old.status?.allocatable ?? {}) as Record<string, string | number>;
  const after = (node.status?.allocatable ?? {}) as Record<string, string | number>;
  for (const [name, value] of Object.entries(after)) {
    const was = before[name];
    if (was === undefined) return true;
    if (String(was) === String(value)) continue;
    try {
      if (parseQuantity(value) > parseQuantity(was)) return true;
    } catch {
      return true;
    }
  }
  // a resource the node no longer reports is no longer a limit the scheduler checks against
  return Object.keys(before).some((name) => after[name] === undefined);
}

function otherSpec(node: Node): Record<string, unknown> {
  const { taints: _taints, unschedulable: _unschedulable, ...rest } = (node.spec ?? {}) as Record<string, unknown>;
  return rest;
}
