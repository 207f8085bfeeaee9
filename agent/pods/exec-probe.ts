// exec probe attempts: the probe's command runs as argv of a one-shot instance of the container's
// own component, in the container's context (env, volumes, limits, the pod's network); exit code 0
// is success.
import type { ContainerSpec, PodRuntime } from '../../runtime/pod-runtime.js';
import type { PodNetwork } from './pod-network.js';
import type { ProbeAttempt, ProbeOutcome } from './prober.js';

export interface ExecProbeContext {
  /** The running container's instance spec: the probe runs the same component in the same context. */
  instance: ContainerSpec;
  runtime: PodRuntime;
  container: string;
  network?: PodNetwork;
  /** A fresh id for each attempt's instance. */
  nextId(): string;
}

export function execProbe(command: string[], ctx: ExecProbeContext): ProbeAttempt {
  return async (signal) => {
    if (command.length === 0) return { ok: false, errored: true, message: 'exec probe has no command' };
    const { instance, runtime, network } = ctx;
    const id = ctx.nextId();
    let output = '';
    const running = await runtime.start({
      ...instance,
      id,
      args: command,
      stdin: new Uint8Array(),
      onOutput: (_stream, chunk) => {
        output = (output + Buffer.from(chunk).toString('utf8')).slice(-1024);
      },
      ...(network ? { network: network.ports(id, ctx.container) } : {}),
    });
    const onAbort = () => void running.stop(0);
    signal.addEventListener('abort', onAbort, { once: true });
    const exit = await running.exited.finally(() => {
      signal.removeEventListener('abort', onAbort);
      network?.release(id);
    });
    return outcomeOf(command, exit.exitCode, exit.message ?? output.trim().split('\n').at(-1) ?? '');
  };
}

function outcomeOf(command: string[], exitCode: number, detail: string): ProbeOutcome {
  if (exitCode === 0) return { ok: true };
  return { ok: false, message: `command ${JSON.stringify(command)} exited with code ${exitCode}${detail ? `: ${detail}` : ''}` };
}
