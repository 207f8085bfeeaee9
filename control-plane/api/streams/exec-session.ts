// What `kubectl exec` and `kubectl attach` need from the rest of the control plane, and the Status
// the error channel ends with (the kubelet's wording, which kubectl turns into its own exit code).
import type { Pod } from '../../../api/types/pod.js';

/** Interactive stdin: called once the command runs; `write` gets each chunk typed, then null at end of input. */
export type StdinRelay = (write: (bytes: Buffer | null) => void) => void;

export interface PodExecOptions {
  container?: string;
  command: string[];
  stdin?: StdinRelay;
}

export interface PodAttachOptions {
  container?: string;
  /** Relayed to the container's stdin (only containers with `stdin: true` read one). */
  stdin?: StdinRelay;
}

export interface ExecOutcome {
  exitCode: number;
  message?: string;
}

export type OutputWriter = (stream: 1 | 2, bytes: Buffer) => void;

/** Runs a command in a pod's context, or attaches to a running container (over the node channel). */
export interface PodExecSource {
  exec(pod: Pod, options: PodExecOptions, write: OutputWriter, signal: AbortSignal): Promise<ExecOutcome>;
  /** Streams the container's output from now until it ends (exit code) or `signal` aborts. */
  attach(pod: Pod, options: PodAttachOptions, write: OutputWriter, signal: AbortSignal): Promise<ExecOutcome>;
  /**
   * One port-forwarded connection: a byte stream to the pod's `port`. `input` relays what the
   * client sends (null: it closed its side); resolves when the pod's side ends.
   */
  portForward(pod: Pod, port: number, io: { input: StdinRelay; write: (bytes: Buffer) => void; signal: AbortSignal }): Promise<void>;
}

/** The Status written on the error channel (3) when the command ends. */
export function execStatus(outcome: ExecOutcome): Record<string, unknown> {
  if (outcome.exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: exit status ${outcome.exitCode}${outcome.message ? ` (${outcome.message})` : ''}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(outcome.exitCode) }] },
  };
}

/** The Status written on the error channel when the command could not run at all. */
export const execFailureStatus = (message: string, reason = 'InternalError', code = 500): Record<string, unknown> =>
  ({ metadata: {}, status: 'Failure', message, reason, code });
