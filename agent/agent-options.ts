// What an Agent is started with (agent.ts): its node, channel, runtime and the knobs of its lease,
// pressure thresholds, volumes, network and metrics.
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import type { PodRuntime } from '../runtime/pod-runtime.js';
import type { AgentChannel } from './agent-channel.js';
import type { ComponentFetcher } from './component-fetcher.js';
import type { ServiceAccountTokenSource } from './credentials/token-request-client.js';
import type { MetricsServerOptions } from './metrics-server.js';
import type { NodeMesh } from './network/mesh.js';
import type { EgressOptions } from './network/egress.js';
import type { PressureSample } from './node-conditions.js';
import type { DesiredStateFile } from './state/desired-state-file.js';

export interface AgentOptions {
  node: string;
  channel: AgentChannel;
  runtime: PodRuntime;
  fetcher: ComponentFetcher;
  clock: Clock;
  logger: Logger;
  labels?: Record<string, string>;
  nodeIP?: string;
  maxPods?: number;
  bootId?: string;
  leaseDurationSeconds?: number;
  leaseRenewIntervalMs?: number;
  fuelPerSecond?: number;
  /** Where the applied desired state survives restarts (edge autonomy); in memory only when absent. */
  stateFile?: DesiredStateFile;
  /** PIDPressure threshold: running Wasm instances (default 4 per pod slot). */
  maxInstances?: number;
  /** MemoryPressure threshold (default 5 % of total memory, at least 64 MiB). */
  minFreeMemoryBytes?: number;
  /** Host sampling, for tests. */
  sampleHost?: (runningInstances: number) => PressureSample;
  /** The agent's data dir: emptyDir and persistentVolumeClaim volumes live under it. */
  dataDir?: string;
  /** hostPath volumes are allowed only under these prefixes (none: no hostPath). */
  allowedHostPaths?: string[];
  /**
   * Egress out of the cluster (network/egress.ts): `allow` the CIDRs pods may reach without a
   * NetworkPolicy saying so (--allow-egress; none by default), `lookup` the resolver of outside
   * names (default: the agent's).
   */
  egress?: EgressOptions;
  /** tmpfs directory for secrets and medium Memory emptyDirs (default /dev/shm/skiff-NODE). */
  memoryDir?: string;
  /** How often container usage is reported (default 15 s). */
  metricsIntervalMs?: number;
  /** How often emptyDirs are measured against their sizeLimit (default 10 s). */
  sizeLimitCheckIntervalMs?: number;
  /** Where hostPorts listen when a port names no hostIP (default: nodeIP). */
  hostPortAddress?: string;
  /**
   * Memory the node's pods may request together (allocatable.memory; admission rejects a pod that
   * does not fit: OutOfmemory). Default: all of the device's memory. The runtime's node-wide
   * memory pool should be the same figure (main.ts gives it both).
   */
  allocatableMemoryBytes?: number;
  /** Memory limit of a container that sets none (default: none). */
  defaultMemoryLimitBytes?: number;
  /** How long one request to a hostPort may take (default 30 s). */
  hostPortRequestTimeoutMs?: number;
  /**
   * Called when the node goes from no pods to run to some (true) and back (false), restored pods
   * included: main.ts keeps warm guest workers only while there are pods. Without fuelPerSecond,
   * the agent has the runtime measure it then (FUEL_CALIBRATION_DELAY_MS later) for its capacity.
   */
  onPodsDesired?: (hasPods: boolean) => void;
  /** A local Prometheus listener (--metrics-port); the metrics are served over the node channel regardless. */
  metricsServer?: MetricsServerOptions;
  /** The tunnel to other nodes' pods and the relay (network/mesh.ts); none: no traffic between nodes. */
  mesh?: NodeMesh;
  /** Serve Ingress on the node IP (`--ingress-port`, `--ingress-tls-port`; 0: any free port). */
  ingress?: { port?: number; tlsPort?: number };
  serviceAccountTokens?: ServiceAccountTokenSource & { setServer?(url: string | undefined, ca: string | undefined): void; close?(): void }; // volume-host.ts
}
