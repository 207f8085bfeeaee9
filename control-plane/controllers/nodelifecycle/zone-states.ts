// The node lifecycle controller's zone rules (Kubernetes' handleDisruption): nodes are grouped by
// zone (topology.kubernetes.io/region + zone), each zone's state follows how many of its nodes are
// not Ready, and the rate at which a zone's not-Ready nodes get their NoExecute taint (which evicts
// their pods: zone-tainter.ts) follows its state:
// - Normal, or FullDisruption while another zone is healthy: the primary rate (--node-eviction-rate);
// - PartialDisruption (more than 2 nodes and at least 55 % not Ready): the secondary rate
//   (--secondary-node-eviction-rate) if the zone is large (more than 50 nodes), else no evictions;
// - every zone in FullDisruption: no evictions anywhere (the control plane, or its network, is what
//   failed: evicting everything would only make it worse).
// Counts change in O(1) per node event; nothing here lists nodes.
import type { Node } from '../../../api/types/node.js';

export type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';

export const REGION_LABEL = 'topology.kubernetes.io/region';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface ZoneRules {
  /** Nodes tainted NoExecute per second in a healthy zone (Kubernetes: --node-eviction-rate, 0.1). */
  primaryPerSecond: number;
  /** Nodes tainted NoExecute per second in a partially disrupted large zone (Kubernetes: --secondary-node-eviction-rate, 0.01). */
  secondaryPerSecond: number;
  /** Fraction of not-Ready nodes from which a zone is partially disrupted (Kubernetes: 0.55). */
  unhealthyZoneThreshold: number;
  /** A zone with at most this many nodes stops evicting when partially disrupted (Kubernetes: 50). */
  largeClusterSizeThreshold: number;
}

export const zoneOf = (node: Node): string => {
  const labels = node.metadata.labels ?? {};
  return `${labels[REGION_LABEL] ?? ''}:\0:${labels[ZONE_LABEL] ?? ''}`;
};

const isReady = (node: Node): boolean => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

export function zoneState(ready: number, notReady: number, threshold: number): ZoneState {
  if (ready === 0 && notReady > 0) return 'FullDisruption';
  if (notReady > 2 && notReady / (ready + notReady) >= threshold) return 'PartialDisruption';
  return 'Normal';
}

export class ZoneStates {
  readonly #nodes = new Map<string, { zone: string; ready: boolean }>();
  readonly #zones = new Map<string, { ready: number; notReady: number }>();

  constructor(private readonly rules: ZoneRules) {}

  /** A node was added or changed (`node`), or deleted (undefined). */
  observe(name: string, node: Node | undefined): void {
    const before = this.#nodes.get(name);
    if (before) this.#count(before.zone, before.ready, -1);
    if (!node) {
      this.#nodes.delete(name);
      return;
    }
    const now = { zone: zoneOf(node), ready: isReady(node) };
    this.#nodes.set(name, now);
    this.#count(now.zone, now.ready, 1);
  }

  zoneOfNode(name: string): string | undefined {
    return this.#nodes.get(name)?.zone;
  }

  stateOf(zone: string): ZoneState {
    const z = this.#zones.get(zone);
    return z ? zoneState(z.ready, z.notReady, this.rules.unhealthyZoneThreshold) : 'Normal';
  }

  /** The zones that have nodes. */
  zones(): IterableIterator<string> {
    return this.#zones.keys();
  }

  /**
   * Nodes per second whose NoExecute taint `zone` allows now (Kubernetes' setLimiterInZone, with
   * handleDisruption's rule that every zone in FullDisruption stops them all).
   */
  rateOf(zone: string): number {
    if (this.allFullyDisrupted()) return 0;
    switch (this.stateOf(zone)) {
      case 'Normal':
      case 'FullDisruption':
        return this.rules.primaryPerSecond;
      case 'PartialDisruption': {
        const z = this.#zones.get(zone)!;
        return z.ready + z.notReady > this.rules.largeClusterSizeThreshold ? this.rules.secondaryPerSecond : 0;
      }
    }
  }

  /** Every zone has nodes and none of them is Ready (the control plane, or its network, is what failed). */
  allFullyDisrupted(): boolean {
    if (this.#zones.size === 0) return false;
    for (const z of this.#zones.values()) if (!(z.ready === 0 && z.notReady > 0)) return false;
    return true;
  }

  #count(zone: string, ready: boolean, delta: number): void {
    const z = this.#zones.get(zone) ?? { ready: 0, notReady: 0 };
    if (ready) z.ready += delta;
    else z.notReady += delta;
    if (z.ready === 0 && z.notReady === 0) this.#zones.delete(zone);
    else this.#zones.set(zone, z);
  }
}
