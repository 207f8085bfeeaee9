// Serves `kubectl exec` from the agents: an `exec` request over the node channel; the agent runs
// the command as a one-shot instance of the container's component and streams its output back.
import { BadRequestError, NotFoundError, ServiceUnavailableError } from '../../api/errors.js';
import type { Pod } from '../../api/types/pod.js';
import type { ExecOutcome, PodExecOptions, PodExecSource } from '../api/exec-session.js';
import { NodeCallError, type NodeChannel } from '../node-channel/node-channel.js';

/** An exec'd command may run this long before the call is abandoned (and the instance stopped). */
const EXEC_TIMEOUT_MS = 4 * 3600_000;

export class PodExecSourceOverChannel implements PodExecSource {
  constructor(private readonly channel: NodeChannel) {}

  async exec(pod: Pod, options: PodExecOptions, write: (stream: 1 | 2, bytes: Buffer) => void, signal: AbortSignal): Promise<ExecOutcome> {
    const node = pod.spec.nodeName;
    const name = pod.metadata.name!;
    if (!node) throw new BadRequestError(`pod ${name} is not scheduled yet`);
    const params = {
      namespace: pod.metadata.namespace!, name, command: options.command,
      ...(options.container !== undefined ? { container: options.container } : {}),
      ...(options.stdin?.length ? { stdin: options.stdin.toString('base64') } : {}),
    };
    try {
      const result = await this.channel.call(node, 'exec', params, {
        timeoutMs: EXEC_TIMEOUT_MS,
        signal,
        onData: (chunk) => {
          const { stream, data } = (chunk ?? {}) as { stream?: unknown; data?: unknown };
          if ((stream === 1 || stream === 2) && typeof data === 'string') write(stream, Buffer.from(data, 'base64'));
        },
      });
      const { exitCode, message } = (result ?? {}) as { exitCode?: unknown; message?: unknown };
      return { exitCode: typeof exitCode === 'number' ? exitCode : 1, ...(typeof message === 'string' ? { message } : {}) };
    } catch (error) {
      if (error instanceof NodeCallError) {
        if (error.code === 404) throw new NotFoundError({ kind: 'pods', name }, { cause: error });
        if (error.code === 400) throw new BadRequestError(error.message, undefined, { cause: error });
        throw new ServiceUnavailableError(`node ${node}: ${error.message}`, undefined, { cause: error });
      }
      throw new ServiceUnavailableError(`could not exec on node ${node}: ${(error as Error).message}`, undefined, { cause: error });
    }
  }
}
