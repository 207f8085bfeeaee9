// Serves `kubectl logs` from the agents: a `logs` request over the node channel, streamed back.
import { BadRequestError, NotFoundError, ServiceUnavailableError } from '../../api/errors.js';
import type { Pod } from '../../api/types/pod.js';
import type { PodLogOptions, PodLogSource } from '../api/api-deps.js';
import { NodeCallError, type NodeChannel } from '../node-channel/node-channel.js';

/** How long a node may take to answer a request for logs that are not followed. */
const LOGS_TIMEOUT_MS = 15_000;
/** A followed stream stays open at most this long (the client reconnects). */
const FOLLOW_TIMEOUT_MS = 4 * 3600_000;

export class PodLogSourceOverChannel implements PodLogSource {
  constructor(private readonly channel: NodeChannel) {}

  async stream(pod: Pod, options: PodLogOptions, write: (chunk: string) => void, signal: AbortSignal): Promise<void> {
    const node = pod.spec.nodeName;
    const name = pod.metadata.name!;
    const container = options.container ?? pod.spec.containers[0]?.name;
    if (!node) throw new BadRequestError(`container "${container}" in pod "${name}" is waiting to start: pod is not scheduled yet`);
    const params = {
      namespace: pod.metadata.namespace!, name, follow: options.follow, timestamps: options.timestamps, previous: options.previous,
      ...(options.container !== undefined ? { container: options.container } : {}),
      ...(options.tailLines !== undefined ? { tailLines: options.tailLines } : {}),
      ...(options.sinceSeconds !== undefined ? { sinceSeconds: options.sinceSeconds } : {}),
      ...(options.limitBytes !== undefined ? { limitBytes: options.limitBytes } : {}),
    };
    try {
      const last = await this.channel.call(node, 'logs', params, {
        timeoutMs: options.follow ? FOLLOW_TIMEOUT_MS : LOGS_TIMEOUT_MS,
        signal,
        onData: (chunk) => {
          if (typeof chunk === 'string' && chunk) write(chunk);
        },
      });
      if (typeof last === 'string' && last) write(last);
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof NodeCallError) {
        if (error.code === 404) throw new NotFoundError({ kind: 'pods', name }, { cause: error });
        if (error.code === 400) throw new BadRequestError(error.message, undefined, { cause: error });
        throw new ServiceUnavailableError(`node ${node}: ${error.message}`, undefined, { cause: error });
      }
      throw new ServiceUnavailableError(`could not get logs from node ${node}: ${(error as Error).message}`, undefined, { cause: error });
    }
  }
}
