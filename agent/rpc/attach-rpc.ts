// The `attach` request (`kubectl attach`): the output of a container's current run from now on, as
// it is written, until the run ends (with its exit code) or the caller goes away; and, for a
// container with `stdin: true`, the caller's input to its stdin. Detaching leaves stdin open,
// unless the container says `stdinOnce`, as the kubelet does.
import type { RpcReply } from '../agent-channel.js';
import type { PodManager } from '../pods/pod-manager.js';
import { ExecUnavailableError } from '../pods/pod-worker.js';
import type { ExecResult } from './exec-rpc.js';
import { OutputBatcher, relayStdin } from './stream-io.js';

export interface AttachParams {
  namespace: string;
  name: string;
  container?: string;
  /** The caller sends stdin as input messages (exec-rpc.ts's format). */
  interactiveStdin?: boolean;
}

export async function serveAttach(pods: PodManager, params: AttachParams, reply: RpcReply): Promise<void> {
  const worker = pods.findPod(params.namespace, params.name);
  if (!worker) return reply.error(404, `pod "${params.name}" is not on this node`);
  let target;
  try {
    target = worker.attachTarget(params.container);
  } catch (error) {
    if (error instanceof ExecUnavailableError) return reply.error(error.code, error.message);
    throw error;
  }
  const { running, slot, stdinOnce } = target;
  const output = new OutputBatcher(reply);
  const listener = (stream: 'stdout' | 'stderr', chunk: Uint8Array) => output.write(stream, chunk);
  slot.attached.add(listener);
  const stdin = params.interactiveStdin === true ? running.stdin : undefined;
  if (stdin) relayStdin(reply, stdin, () => (stdinOnce ? stdin.end() : undefined));
  const detached = new Promise<void>((resolve) => reply.signal.addEventListener('abort', () => resolve(), { once: true }));
  const exit = await Promise.race([running.exited, detached]);
  slot.attached.delete(listener);
  // a stdinOnce container's stdin closes when its first attach session ends, however it ends
  if (stdin && stdinOnce) stdin.end();
  if (!exit) return;
  output.flush();
  reply.done({ exitCode: exit.exitCode, reason: exit.reason, ...(exit.message ? { message: exit.message } : {}) } satisfies ExecResult);
}
