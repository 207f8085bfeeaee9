// Serves `kubectl exec` and `kubectl attach` from the agents over the node channel: an `exec`
// request runs the command as a one-shot instance of the container's component; an `attach`
// request streams a running container's output. Both stream output back, and take stdin as it is
// typed (`input` messages of the call).
import { BadRequestError, NotFoundError, ServiceUnavailableError } from '../../api/errors.js';
import type { Pod } from '../../api/types/pod.js';
import type { ExecOutcome, OutputWriter, PodAttachOptions, PodExecOptions, PodExecSource, StdinRelay } from '../api/streams/exec-session.js';
import { NodeCallError, type NodeChannel } from '../node-channel/node-channel.js';

/** An exec'd command (or an attach) may run this long before the call is abandoned. */
const EXEC_TIMEOUT_MS = 4 * 3600_000;
/** Largest stdin chunk sent in one MQTT message (bytes, before base64). */
const STDIN_CHUNK_BYTES = 32 * 1024;

export class PodExecSourceOverChannel implements PodExecSource {
  constructor(private readonly channel: NodeChannel) {}

  exec(pod: Pod, options: PodExecOptions, write: OutputWriter, signal: AbortSignal): Promise<ExecOutcome> {
    return this.#call('exec', pod, { command: options.command, container: options.container }, options.stdin, write, signal);
  }

  attach(pod: Pod, options: PodAttachOptions, write: OutputWriter, signal: AbortSignal): Promise<ExecOutcome> {
    return this.#call('attach', pod, { container: options.container }, options.stdin, write, signal);
  }

  async portForward(pod: Pod, port: number, io: { input: StdinRelay; write: (bytes: Buffer) => void; signal: AbortSignal }): Promise<void> {
    await this.#call('portforward', pod, { port }, io.input, (_stream, bytes) => io.write(bytes), io.signal);
  }

  async #call(
    method: 'exec' | 'attach' | 'portforward', pod: Pod, extra: { command?: string[]; container?: string | undefined; port?: number },
    stdin: StdinRelay | undefined, write: OutputWriter, signal: AbortSignal,
  ): Promise<ExecOutcome> {
    const node = pod.spec.nodeName;
    const name = pod.metadata.name!;
    if (!node) throw new BadRequestError(`pod ${name} is not scheduled yet`);
    const params = {
      namespace: pod.metadata.namespace!, name,
      ...(extra.command ? { command: extra.command } : {}),
      ...(extra.container !== undefined ? { container: extra.container } : {}),
      ...(extra.port !== undefined ? { port: extra.port } : {}),
      ...(stdin ? { interactiveStdin: true } : {}),
    };
    try {
      const result = await this.channel.call(node, method, params, {
        timeoutMs: EXEC_TIMEOUT_MS,
        signal,
        onData: (chunk) => {
          const { stream, data } = (chunk ?? {}) as { stream?: unknown; data?: unknown };
          if ((stream === 1 || stream === 2) && typeof data === 'string') write(stream, Buffer.from(data, 'base64'));
        },
        ...(stdin ? { withInput: (send: (data: unknown) => void) => stdin((bytes) => sendStdin(send, bytes)) } : {}),
      });
      const { exitCode, message } = (result ?? {}) as { exitCode?: unknown; message?: unknown };
      return { exitCode: typeof exitCode === 'number' ? exitCode : 1, ...(typeof message === 'string' ? { message } : {}) };
    } catch (error) {
      if (error instanceof NodeCallError) {
        if (error.code === 404) throw new NotFoundError({ kind: 'pods', name }, { cause: error });
        if (error.code === 400) throw new BadRequestError(error.message, undefined, { cause: error });
        throw new ServiceUnavailableError(`node ${node}: ${error.message}`, undefined, { cause: error });
      }
      throw new ServiceUnavailableError(`could not ${method} on node ${node}: ${(error as Error).message}`, undefined, { cause: error });
    }
  }
}

/** stdin as `input` messages: `{data: base64}` chunks, then `{end: true}`. */
function sendStdin(send: (data: unknown) => void, bytes: Buffer | null): void {
  if (bytes === null) return send({ end: true });
  for (let at = 0; at < bytes.length; at += STDIN_CHUNK_BYTES) send({ data: bytes.subarray(at, at + STDIN_CHUNK_BYTES).toString('base64') });
}
