// What `kubectl exec` needs from the rest of the control plane, and the Status the exec error
// channel ends with (the kubelet's wording, which kubectl turns into its own exit code).
import type { Pod } from '../../api/types/pod.js';

export interface PodExecOptions {
  container?: string;
  command: string[];
  /** Everything the client sent on stdin before closing it (no interactive stdin). */
  stdin?: Buffer;
}

export interface ExecOutcome {
  exitCode: number;
  message?: string;
}

/** Runs a command in a pod's context (implemented over the node channel). */
export interface PodExecSource {
  exec(pod: Pod, options: PodExecOptions, write: (stream: 1 | 2, bytes: Buffer) => void, signal: AbortSignal): Promise<ExecOutcome>;
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
