// Nodes by condition: how many nodes have each condition (Ready, MemoryPressure...) at each status
// (True, False, Unknown), counted when scraped from the watch cache. One series per pair, not per
// node, so a fleet of thousands stays cheap to scrape; per-node detail is in the API and dashboard.
import { Gauge, type Registry } from 'prom-client';
import type { Node } from '../../api/types/node.js';

export function registerNodeConditionMetrics(registry: Registry, listNodes: () => Promise<readonly Node[]>): void {
  // One list of the nodes per scrape: a scrape starts every gauge's collect before awaiting any,
  // so the second one finds the first one's list still pending.
  let pending: Promise<readonly Node[]> | undefined;
  const nodesOnce = () => (pending ??= listNodes().finally(() => (pending = undefined)));
  new Gauge({
    name: 'skiff_nodes', help: 'Nodes by condition type and status (a node without a condition is counted as Unknown).',
    labelNames: ['condition', 'status'], registers: [registry],
    async collect() {
      const nodes = await nodesOnce();
      const counts = new Map<string, number>();
      const types = new Set(['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']);
      for (const node of nodes) for (const c of node.status?.conditions ?? []) types.add(c.type);
      for (const type of types) for (const status of ['True', 'False', 'Unknown']) counts.set(`${type}\0${status}`, 0);
      for (const node of nodes) {
        for (const type of types) {
          const status = node.status?.conditions?.find((c) => c.type === type)?.status ?? 'Unknown';
          const key = `${type}\0${status}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }
      this.reset();
      for (const [key, n] of counts) {
        const [condition, status] = key.split('\0') as [string, string];
        this.set({ condition, status }, n);
      }
    },
  });
  new Gauge({
    name: 'skiff_nodes_unschedulable', help: 'Nodes cordoned (spec.unschedulable).', registers: [registry],
    async collect() {
      this.set((await nodesOnce()).filter((n) => n.spec?.unschedulable).length);
    },
  });
}
