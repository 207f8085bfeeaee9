// The `exec` request (`kubectl exec`): runs the command as a one-shot instance of a container's
// component in the pod's context (env, volumes, limits), streams its stdout/stderr back as it is
// written, and ends with the exit code. There is no terminal. stdin is either `stdin` (bytes known
// in advance, base64) then EOF, or, with `interactiveStdin`, the call's input as it is typed.
import type { PodRuntime } from '../../runtime/pod-runtime.js';
import type { RpcReply } from '../agent-channel.js';
import type { PodManager } from '../pods/pod-manager.js';
import { ExecUnavailableError } from '../pods/pod-worker.js';
import { OutputBatcher, relayStdin } from './stream-io.js';


export interface ExecParams {
  namespace: string;
  name: string;
  container?: string;
  command: string[];
  /** base64 */
  stdin?: string;
  /** stdin comes as the call's input messages: `{data: base64}`, then `{end: true}`. */
  interactiveStdin?: boolean;
}


export interface ExecResult {
  exitCode: number;
  reason: string;
  message?: string;
}

let execCount = 0;

export async function serveExec(pods: PodManager, runtime: PodRuntime, params: ExecParams, reply: RpcReply): Promise<void> {
  const worker = pods.findPod(params.namespace, params.name);
  if (!worker) return reply.error(404, `pod "${params.name}" is not on this node`);
  if (!Array.isArray(params.command) || params.command.length === 0) return reply.error(400, 'you must specify at least one command for the container');
  let spec;
  try {
    spec = worker.execSpec(params.container, params.command, `${worker.uid}/exec-${++execCount}`);
  } catch (error) {
    if (error instanceof ExecUnavailableError) return reply.error(error.code, error.message);
    throw error;
  }
  const output = new OutputBatcher(reply);
  let running;
  try {
    running = await runtime.start({
      ...spec,
      stdin: params.stdin ? Buffer.from(params.stdin, 'base64') : new Uint8Array(),
      ...(params.interactiveStdin === true ? { interactiveStdin: true } : {}),
      onOutput: (stream, chunk) => output.write(stream, chunk),
    });
  } catch (error) {
    return reply.error(500, `cannot start the command: ${(error as Error).message}`);
  }
  const stdin = running.stdin;
  if (stdin) relayStdin(reply, stdin);
  const stop = () => void running.stop(0);
  reply.signal.addEventListener('abort', stop, { once: true });
  const exit = await running.exited;
  reply.signal.removeEventListener('abort', stop);
  output.flush();
  reply.done({ exitCode: exit.exitCode, reason: exit.reason, ...(exit.message ? { message: exit.message } : {}) } satisfies ExecResult);
}
