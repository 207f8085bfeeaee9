// The simple-pod search (placeSimplePod, what placePod runs for pods asking a node nothing but room)
// must give placePodFully's answer: the same node, the same reasons, the same number of nodes looked
// at, over seeded random nodes (ready or not, cordoned, tainted, odd allocatable, used near capacity,
// host ports taken) and pods (requests, host ports, tolerations) and limited searches, with node
// tables built at once or brought up to date slot by slot.
import { describe, expect, it } from 'vitest';
import type { Node, Taint } from '../../../api/types/node.js';
import type { Pod } from '../../../api/types/pod.js';
import { type NodeUsage } from '../../../control-plane/scheduler/node-fit.js';
import { isSimplePod, placePod, placePodFully, placeSimplePod, type NodeSearch } from '../../../control-plane/scheduler/placement.js';
import { NodeTable } from '../../../control-plane/scheduler/node-table.js';
import { aNode, aPod } from '../../support/builders.js';
import { seededRandom } from '../../support/seeded-random.js';

const CASES = 3000;

function generator(seed: number) {
  const next = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const int = (n: number) => Math.floor(next() * n);
  const taint = (): Taint => ({ key: pick(['dedicated', 'gpu', 'edge']), value: pick(['a', 'b', undefined]), effect: pick(['NoSchedule', 'NoExecute', 'PreferNoSchedule']) } as Taint);

  function node(i: number): Node {
    const n = aNode(`${pick(['', 'a', 'b'])}n${i}`, {
      ready: next() > 0.1, unschedulable: next() < 0.08, cpu: pick(['1', '2', '500m', '0', '4']), memory: pick(['1Gi', '256Mi', '2Gi']), pods: pick(['1', '2', '3', '110']),
      ...(next() < 0.2 ? { taints: Array.from({ length: 1 + int(2) }, taint) } : {}),
    });
    const a = n.status!.allocatable!;
    // allocatable figures may be missing
    for (const k of ['cpu', 'memory', 'pods']) if (next() < 0.08) delete a[k];
    return n;
  }

  function usage(nodes: readonly Node[]): Map<string, NodeUsage> {
    const out = new Map<string, NodeUsage>();
    for (const n of nodes) {
      if (next() < 0.3) continue;
      const u: NodeUsage = { pods: int(3), cpuMillis: pick([0, 100, 500, 900, 1000, 1900, 2000]), memoryBytes: pick([0, 2 ** 20, 128 * 2 ** 20, 2 ** 30]) };
      if (next() < 0.2) u.hostPorts = new Set([pick(['TCP/80', 'TCP/8080', 'UDP/53'])]);
      out.set(n.metadata.name!, u);
    }
    return out;
  }

  function pod(): Pod {
    const requests: Record<string, string> = {};
    if (next() < 0.7) requests['cpu'] = pick(['0', '100m', '500m', '1', '1500m']);
    if (next() < 0.5) requests['memory'] = pick(['1Mi', '64Mi', '512Mi', '1Gi']);
    const ports = next() < 0.2 ? [{ containerPort: 8080, hostPort: pick([80, 8080, 53]), ...(next() < 0.5 ? { protocol: pick(['TCP', 'UDP'] as const) } : {}) }] : [];
    const tolerations = next() < 0.2 ? [{ key: pick(['dedicated', 'gpu']), operator: pick(['Exists', 'Equal']), value: pick(['a', 'b']), ...(next() < 0.5 ? { effect: 'NoSchedule' } : {}) }] : undefined;
    return aPod('p', {
      containers: [{ name: 'main', image: 'x', ...(Object.keys(requests).length ? { resources: { requests } } : {}), ...(ports.length ? { ports } : {}) }],
      ...(tolerations ? { tolerations } : {}),
    });
  }

  return { next, int, node, usage, pod };
}

describe('the simple-pod search', () => {
  it('gives the full search\'s answer: node, reasons and nodes looked at (seeded fuzz)', () => {
    const g = generator(1313);
    let found = 0;
    let unschedulable = 0;
    for (let c = 0; c < CASES; c++) {
      const nodes = Array.from({ length: 1 + g.int(12) }, (_, i) => g.node(i));
      const usage = g.usage(nodes);
      const pod = g.pod();
      const search: NodeSearch | undefined = g.next() < 0.6 ? { start: g.int(30), feasibleToFind: 1 + g.int(nodes.length) } : undefined;
      expect(isSimplePod(pod, [])).toBe(true);
      // half the tables are built from other versions of the nodes and no usage, then brought up to date
      let table: NodeTable;
      if (g.next() < 0.5) {
        table = NodeTable.of(nodes, usage);
      } else {
        table = NodeTable.of(nodes.map((n) => ({ ...g.node(0), metadata: n.metadata })), new Map());
        for (const n of nodes) expect(table.replaceNode(n)).toBe(true);
        for (const n of nodes) table.setUsage(n.metadata.name!, usage.get(n.metadata.name!));
      }
      const fast = placeSimplePod(pod, table, search);
      const full = placePodFully(pod, nodes, usage, [], search);
      const view = (p: typeof fast) => ({ node: p.node, reasons: [...p.reasons].sort(), nodeCount: p.nodeCount, searched: p.searched });
      expect(view(fast), `case ${c}`).toEqual(view(full));
      if (full.node) found++;
      else unschedulable++;
    }
    // the cases cover both outcomes, not one
    expect(found).toBeGreaterThan(CASES / 4);
    expect(unschedulable).toBeGreaterThan(CASES / 20);
  });

  it('is what placePod runs only for pods that ask nothing but room', () => {
    const spread = { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway' }] };
    const preferred = { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } }] } } };
    const required = { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } };
    const antiAffinity = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname' }] } } };
    const withSpec = (spec: Record<string, unknown>) => {
      const p = aPod('p');
      Object.assign(p.spec, spec);
      return p;
    };
    expect(isSimplePod(aPod('p', { nodeSelector: {} }), [])).toBe(true);
    expect(isSimplePod(aPod('p', { nodeSelector: { zone: 'a' } }), [])).toBe(false);
    for (const spec of [spread, preferred, required, antiAffinity]) expect(isSimplePod(withSpec(spec), [])).toBe(false);
    expect(isSimplePod(aPod('p'), [{ pod: withSpec(antiAffinity), node: aNode('a') }])).toBe(false);
    // the empty required term list matches no node: the full search says so
    const nodes = [aNode('a'), aNode('b')];
    expect(placePod(withSpec(required), nodes, new Map()).node).toBeUndefined();
    expect(placePod(withSpec(preferred), [aNode('a'), aNode('b', { labels: { zone: 'a' } })], new Map()).node).toBe('b');
  });
});
