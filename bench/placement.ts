// One scheduling decision's search, alone (no store, no event loop): microseconds per decision for
// a pod that asks a node nothing but room (what a Deployment's pods ask), at several cluster sizes,
// with the simple-pod search over a kept NodeTable (what the Scheduler runs) and with every filter
// and score over the node objects (placePodFully), both
// limited as the scheduler limits them (feasibleNodesToFind, a rotating start). Nodes half full.
// Prints JSON. Usage: node dist/bench/placement.js [decisions=2000] [rounds=7]
import { loadavg } from 'node:os';
import type { Node } from '../api/types/node.js';
import type { Pod } from '../api/types/pod.js';
import type { NodeUsage } from '../control-plane/scheduler/node-fit.js';
import { NodeTable } from '../control-plane/scheduler/node-table.js';
import { feasibleNodesToFind, placePodFully, placeSimplePod, type PlacementResult } from '../control-plane/scheduler/placement.js';

const decisions = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 7);
const SIZES = [100, 200, 1000, 5000, 10_000];

function node(i: number): Node {
  const capacity = { cpu: '64', memory: '256Gi', pods: '110' };
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}`, 'topology.kubernetes.io/zone': `zone-${i % 3}` } },
    spec: { podCIDR: `10.${40 + Math.floor(i / 250)}.${i % 250}.0/24` },
    status: { capacity, allocatable: capacity, conditions: [{ type: 'Ready', status: 'True' }] },
  } as Node;
}

const pod: Pod = {
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'fleet', labels: { app: 'web' } },
  spec: { containers: [{ name: 'main', image: 'examples/app:v1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
};

type Search = (pod: Pod, nodes: readonly Node[], usage: Map<string, NodeUsage>, placed: [], search: { start: number; feasibleToFind: number }) => PlacementResult;
function measure(search: Search, nodes: readonly Node[], usage: Map<string, NodeUsage>): number {
  const limit = feasibleNodesToFind(nodes.length);
  let start = 0;
  let sink: PlacementResult | undefined;
  const t0 = performance.now();
  for (let d = 0; d < decisions; d++) {
    sink = search(pod, nodes, usage, [], { start, feasibleToFind: limit });
    start = (start + sink.searched) % nodes.length;
  }
  const us = ((performance.now() - t0) * 1000) / decisions;
  if (!sink?.node) throw new Error('no node found');
  return us;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results = [];
for (const size of SIZES) {
  const nodes = Array.from({ length: size }, (_, i) => node(i));
  const usage = new Map<string, NodeUsage>(nodes.map((n, i) => [n.metadata.name!, { pods: 40 + (i % 30), cpuMillis: 400 + 10 * (i % 30), memoryBytes: (640 + 16 * (i % 30)) * 2 ** 20 }]));
  const simple: number[] = [];
  const full: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const table = new NodeTable(nodes, usage);
    simple.push(measure((p, _n, _u, _placed, search) => placeSimplePod(p, table, search), nodes, usage));
    full.push(measure(placePodFully, nodes, usage));
  }
  results.push({ nodes: size, nodesScored: feasibleNodesToFind(size), simpleUsPerDecision: +median(simple).toFixed(2), fullUsPerDecision: +median(full).toFixed(2), ratio: +(median(full) / median(simple)).toFixed(1) });
}
console.log(JSON.stringify({ decisions, rounds, loadAverage: loadavg().map((l) => +l.toFixed(2)), results }, null, 2));
