// The nodes as the simple-pod search reads them: one slot per node, in a fixed order, with what a
// plain node's fit and score need held in typed arrays (allocatable and used pods, cpu, memory;
// plain; host ports taken), so a decision that looks at hundreds of nodes reads a few contiguous
// numbers per node instead of chasing Node, facts and usage objects through hash tables: its cost
// then depends on the nodes it looks at, not on the size of the cluster. The Scheduler keeps one
// table (a changed node or usage rewrites its slot); NodeTable.of builds one for a single search.
import type { Node } from '../../api/types/node.js';
import { nodeFacts, type NodeUsage, type UsageLookup } from './node-fit.js';

/** A missing allocatable figure: NaN fails every comparison and is falsy, as undefined is. */
const missing = (n: number | undefined): number => (n === undefined ? Number.NaN : n);

export class NodeTable {
  readonly nodes: Node[];
  readonly names: string[];
  /** The usage objects (fitsNode reads them for the nodes that are not plain). */
  readonly usage: Array<NodeUsage | undefined>;
  readonly plain: Uint8Array;
  readonly allocPods: Float64Array;
  readonly allocCpu: Float64Array;
  readonly allocMemory: Float64Array;
  readonly usedPods: Float64Array;
  readonly usedCpu: Float64Array;
  readonly usedMemory: Float64Array;
  readonly hostPorts: Uint8Array;
  readonly #slots = new Map<string, number>();

  constructor(nodes: Iterable<Node>, usage: UsageLookup) {
    this.nodes = [...nodes];
    const n = this.nodes.length;
    this.names = new Array<string>(n);
    this.usage = new Array<NodeUsage | undefined>(n);
    this.plain = new Uint8Array(n);
    this.allocPods = new Float64Array(n);
    this.allocCpu = new Float64Array(n);
    this.allocMemory = new Float64Array(n);
    this.usedPods = new Float64Array(n);
    this.usedCpu = new Float64Array(n);
    this.usedMemory = new Float64Array(n);
    this.hostPorts = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      this.#fillNode(i, this.nodes[i]!);
      this.#slots.set(this.names[i]!, i);
      this.#fillUsage(i, usage.get(this.names[i]!));
    }
  }

  /** A table for one search over these nodes. */
  static of(nodes: readonly Node[], usage: UsageLookup): NodeTable {
    return new NodeTable(nodes, usage);
  }

  get size(): number {
    return this.nodes.length;
  }

  /** Takes a node's new version in its slot; false when the table has no node of that name. */
  replaceNode(node: Node): boolean {
    const slot = this.#slots.get(node.metadata.name!);
    if (slot === undefined) return false;
    this.nodes[slot] = node;
    this.#fillNode(slot, node);
    return true;
  }

  /** Takes a node's usage now (undefined: nothing on it); a node not in the table is ignored. */
  setUsage(name: string, usage: NodeUsage | undefined): void {
    const slot = this.#slots.get(name);
    if (slot !== undefined) this.#fillUsage(slot, usage);
  }

  #fillNode(i: number, node: Node): void {
    const facts = nodeFacts(node);
    this.names[i] = facts.name;
    this.plain[i] = facts.plain ? 1 : 0;
    this.allocPods[i] = missing(facts.allocatable.pods);
    this.allocCpu[i] = missing(facts.allocatable.cpuMillis);
    this.allocMemory[i] = missing(facts.allocatable.memoryBytes);
  }

  #fillUsage(i: number, usage: NodeUsage | undefined): void {
    this.usage[i] = usage;
    this.usedPods[i] = usage?.pods ?? 0;
    this.usedCpu[i] = usage?.cpuMillis ?? 0;
    this.usedMemory[i] = usage?.memoryBytes ?? 0;
    this.hostPorts[i] = usage?.hostPorts ? 1 : 0;
  }
}
