// What this device tells the control plane about itself: labels, capacity, addresses, versions.
import { arch, cpus, hostname, platform, release, totalmem, version } from 'node:os';
import type { NodeStatusMessage } from '../api/mqtt/messages.js';
import { formatBytes } from '../api/quantity.js';
import { SKIFF_VERSION } from '../api/version.js';

/** Node's process.arch -> GOARCH, as Kubernetes labels use it. */
const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', riscv64: 'riscv64', ppc64: 'ppc64le', s390x: 's390x' };

export const KUBELET_VERSION = 'v1.32.0-skiff';
/** Capacity entry: the fuel this node burns per CPU-second (informational; cpu limits use it). */
export const FUEL_CAPACITY = 'skiff.dev/fuel-per-second';

/** A container without a memory limit gets this one (--default-memory-limit): sensible on a Raspberry Pi. */
export const DEFAULT_MEMORY_LIMIT_BYTES = 256 * 1024 * 1024;

/**
 * Memory the node's containers may use together unless --allocatable-memory says otherwise: the
 * device's memory less a reserve for the system and the agent itself (a quarter, at least 256 MiB,
 * as the kubelet's system-reserved), never below 64 MiB.
 */
export function defaultAllocatableMemory(totalBytes = totalmem()): number {
  const reserve = Math.max(256 * 1024 * 1024, Math.floor(totalBytes / 4));
  return Math.max(64 * 1024 * 1024, totalBytes - reserve);
}

export interface NodeInfoOptions {
  node: string;
  labels: Record<string, string>;
  nodeIP: string;
  maxPods: number;
  bootId: string;
  /** Fuel per second this node measured (cpu allocatable in fuel), when known. */
  fuelPerSecond?: number;
  /** Memory its pods may use together (allocatable.memory); default: all of it. */
  allocatableMemoryBytes?: number;
}

export type NodeSnapshot = Omit<NodeStatusMessage, 'v' | 'sessionId' | 'seq' | 'ts' | 'observedGeneration' | 'conditions'>;

export function describeNode(options: NodeInfoOptions): NodeSnapshot {
  const goarch = GOARCH[arch()] ?? arch();
  const os = platform() === 'win32' ? 'windows' : platform();
  const memory = formatBytes(Math.floor(totalmem() / 1024) * 1024);
  const capacity: Record<string, string> = {
    cpu: String(cpus().length || 1),
    memory,
    pods: String(options.maxPods),
    'ephemeral-storage': '0',
  };
  if (options.fuelPerSecond) capacity[FUEL_CAPACITY] = String(Math.round(options.fuelPerSecond));
  return {
    labels: {
      'kubernetes.io/arch': goarch,
      'kubernetes.io/os': os,
      'kubernetes.io/hostname': options.node,
      'beta.kubernetes.io/arch': goarch,
      'beta.kubernetes.io/os': os,
      'node.skiff.dev/runtime': 'wasm',
      ...options.labels,
    },
    capacity,
    allocatable: {
      ...capacity,
      ...(options.allocatableMemoryBytes !== undefined ? { memory: formatBytes(Math.floor(options.allocatableMemoryBytes / 1024) * 1024) } : {}),
    },
    addresses: [
      { type: 'InternalIP', address: options.nodeIP },
      { type: 'Hostname', address: hostname() },
    ],
    nodeInfo: {
      architecture: goarch,
      operatingSystem: os,
      kernelVersion: release(),
      osImage: version(),
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: KUBELET_VERSION,
      containerRuntimeVersion: `skiff-wasm://${SKIFF_VERSION}`,
      bootID: options.bootId,
      machineID: options.node,
      systemUUID: options.node,
    },
  };
}
