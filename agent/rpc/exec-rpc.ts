// The `exec` request (`kubectl exec`): runs the command as a one-shot instance of a container's
// component in the pod's context (env, volumes, limits), streams its stdout/stderr back as it is
// written, and ends with the exit code. There is no terminal and no interactive stdin: the guest
// gets `stdin` (bytes collected by the API server, base64) and then EOF.
import type { PodRuntime } from '../../runtime/pod-runtime.js';
import type { RpcReply } from '../agent-channel.js';
import type { PodManager } from '../pods/pod-manager.js';
import { ExecUnavailableError } from '../pods/pod-worker.js';

/** Largest output chunk sent in one MQTT message (bytes, before base64). */
const CHUNK_BYTES = 32 * 1024;

export interface ExecParams {
  namespace: string;
  name: string;
  container?: string;
  command: string[];
  /** base64 */
  stdin?: string;
}

/** A partial result: output of one stream (1 = stdout, 2 = stderr, as the exec channels number them). */
export interface ExecOutputChunk {
  stream: 1 | 2;
  /** base64 */
  data: string;
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
  // output written together goes out in one message per stream
  const pending: Record<1 | 2, Buffer[]> = { 1: [], 2: [] };
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    for (const stream of [1, 2] as const) {
      const bytes = Buffer.concat(pending[stream].splice(0));
      for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
        reply.data({ stream, data: bytes.subarray(at, at + CHUNK_BYTES).toString('base64') } satisfies ExecOutputChunk);
      }
    }
  };
  let running;
  try {
    running = await runtime.start({
      ...spec,
      stdin: params.stdin ? Buffer.from(params.stdin, 'base64') : new Uint8Array(),
      onOutput: (stream, chunk) => {
        pending[stream === 'stdout' ? 1 : 2].push(Buffer.from(chunk));
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      },
    });
  } catch (error) {
    return reply.error(500, `cannot start the command: ${(error as Error).message}`);
  }
  const stop = () => void running.stop(0);
  reply.signal.addEventListener('abort', stop, { once: true });
  const exit = await running.exited;
  reply.signal.removeEventListener('abort', stop);
  flush();
  reply.done({ exitCode: exit.exitCode, reason: exit.reason, ...(exit.message ? { message: exit.message } : {}) } satisfies ExecResult);
}
