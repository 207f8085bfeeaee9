// Maps how a guest ended to a ContainerExit, with exit codes chosen like wasmtime and Kubernetes:
//   returned/exit(0)            -> Completed, 0
//   exit with code N (N != 0)   -> Error, N (WASI 0.2 `exit(err)` and run() returning err are 1)
//   trap                        -> Error, 134 (wasmtime exits 128+SIGABRT), message = trap
//   failed for the memory cap   -> OOMKilled, 137 (what the kernel's OOM killer leaves): a trap, or
//                                  a non-zero exit, after a memory.grow was refused (its own
//                                  limit, or the node's memory for containers used up)
//   hard fuel budget spent      -> FuelExhausted, 152 (128+SIGXCPU, the CPU-time rlimit signal)
//   stopped by the runtime      -> Killed, 137 (SIGKILL)
//   could not instantiate       -> Error, 128 (Kubernetes' ContainerCannotRun code)
import type { MemoryExhaustion } from './limits/memory-account.js';
import type { ContainerExit } from './pod-runtime.js';
import type { GuestOutcome } from './worker/guest-messages.js';

export const EXIT_CODE_TRAP = 134;
export const EXIT_CODE_KILLED = 137;
export const EXIT_CODE_OOM = 137;
export const EXIT_CODE_FUEL = 152;
export const EXIT_CODE_CANNOT_RUN = 128;

type ExitWithoutTimes = Omit<ContainerExit, 'startedAt' | 'finishedAt'>;

/** Why memory ran out, in one line. */
export function memoryExhaustedMessage(exhausted: MemoryExhaustion, memoryLimitBytes: number | undefined): string {
  return exhausted === 'node' || memoryLimitBytes === undefined
    ? "the node's memory for containers is used up"
    : `memory limit of ${memoryLimitBytes} bytes reached`;
}

export function exitOf(outcome: GuestOutcome, memoryLimitBytes: number | undefined): ExitWithoutTimes {
  const oom = (exhausted: MemoryExhaustion, what: string): ExitWithoutTimes => ({
    exitCode: EXIT_CODE_OOM,
    reason: 'OOMKilled',
    message: `${memoryExhaustedMessage(exhausted, memoryLimitBytes)} (${what})`,
  });
  switch (outcome.kind) {
    case 'exited': {
      const guestExitCode = outcome.exitCode;
      if (guestExitCode === 0) return { exitCode: 0, reason: 'Completed', guestExitCode };
      return outcome.memoryExhausted
        ? { ...oom(outcome.memoryExhausted, `it exited with code ${guestExitCode} after an allocation was refused`), guestExitCode }
        : { exitCode: guestExitCode, reason: 'Error', guestExitCode };
    }
    case 'trapped': {
      const trap = oneLine(outcome.message);
      return outcome.memoryExhausted
        ? { ...oom(outcome.memoryExhausted, trap), trap }
        : { exitCode: EXIT_CODE_TRAP, reason: 'Error', message: trap, trap };
    }
    case 'fuel-exhausted':
      // wasmtime's --fuel traps with this message
      return { exitCode: EXIT_CODE_FUEL, reason: 'FuelExhausted', message: oneLine(outcome.message), trap: 'wasm trap: all fuel consumed by WebAssembly' };
    case 'stopped':
      return killed();
    case 'not-started':
      return { exitCode: EXIT_CODE_CANNOT_RUN, reason: 'Error', message: oneLine(outcome.message) };
    case 'returned':
      return { exitCode: 0, reason: 'Completed', results: outcome.results };
    // HTTP handler requests (http-handler-container.ts) do not end the container
    case 'responded':
      return { exitCode: 0, reason: 'Completed' };
    case 'no-response':
      return { exitCode: 1, reason: 'Error', message: oneLine(outcome.message) };
  }
}

export const killed = (): ExitWithoutTimes => ({ exitCode: EXIT_CODE_KILLED, reason: 'Killed', message: 'stopped by the runtime' });

export const oneLine = (text: string): string => text.split('\n')[0]!.slice(0, 500);
