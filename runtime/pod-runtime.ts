// PodRuntime: turns components into running, limited containers. The agent depends only on this
// interface; wasm-pod-runtime.ts implements it with jco-transpiled components in worker threads.
// Every implementation passes test/contracts/runtime.contract.ts.

/** A component ready to instantiate (transpiled and compiled), identified by sha256 digest. */
export interface LoadedComponent {
  readonly digest: string;
}

export interface Preopen {
  hostPath: string;
  guestPath: string;
  readOnly: boolean;
}

export interface ContainerLimits {
  /** Cap on every linear memory (resources.limits.memory). */
  memoryBytes?: number;
  /** CPU quota in millicores (resources.limits.cpu). */
  cpuMillis?: number;
  /** Hard fuel budget: the container ends with FuelExhausted when spent. */
  fuel?: bigint;
  /** Meter fuel without any quota, so CPU use can be measured (resources.requests.cpu). */
  measureCpu?: boolean;
}

export interface ContainerSpec {
  /** Unique per instance, e.g. `${podUid}/${containerName}/${restartCount}`. */
  id: string;
  component: LoadedComponent;
  /** argv, including argv[0]. */
  args: string[];
  env: Array<[string, string]>;
  limits?: ContainerLimits;
  preopens?: Preopen[];
  /** Bytes given to the guest's stdin (then EOF). Default: empty. */
  stdin?: Uint8Array;
  /** Every chunk the guest writes, as it is written. */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void;
}

export type ExitReason = 'Completed' | 'Error' | 'OOMKilled' | 'FuelExhausted' | 'Killed';

export interface ContainerExit {
  exitCode: number;
  reason: ExitReason;
  /** Trap message or limit explanation, one line. */
  message?: string;
  startedAt: Date;
  finishedAt: Date;
}

export interface RunningContainer {
  readonly id: string;
  readonly startedAt: Date;
  /** Settles when the guest ends, whatever the reason (never rejects). */
  readonly exited: Promise<ContainerExit>;
  /** Stops the guest: asks it to end, and terminates it after `gracePeriodMs`. */
  stop(gracePeriodMs: number): Promise<ContainerExit>;
  /** Fuel the guest has consumed so far; undefined when it is not metered (no cpu limit, request or fuel). */
  fuelConsumed?(): bigint | undefined;
  /** Bytes of the guest's linear memories, where known (metered guests). */
  memoryBytes?(): number | undefined;
}

export interface PodRuntime {
  /** Transpiles (or takes from cache) a component. Throws InvalidComponentError for bad bytes. */
  load(digest: string, fetchBytes: () => Promise<Uint8Array>): Promise<LoadedComponent>;
  start(spec: ContainerSpec): Promise<RunningContainer>;
  /** Fuel per CPU-second on this node, to turn fuel consumed into CPU time (metering runtimes). */
  readonly fuelPerSecond?: number;
  close(): Promise<void>;
}

export class InvalidComponentError extends Error {
  override readonly name = 'InvalidComponentError';
}

export class DigestMismatchError extends Error {
  override readonly name = 'DigestMismatchError';
}
