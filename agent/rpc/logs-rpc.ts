// The `logs` request: a container's log lines, once or followed until the container ends.
import type { RpcReply } from '../agent-channel.js';
import { formatLogLine, type LogLine } from '../log-buffer.js';
import type { PodManager } from '../pods/pod-manager.js';

/** Largest chunk sent in one MQTT message (bytes of text). */
const CHUNK_BYTES = 48 * 1024;

export interface LogsParams {
  namespace: string;
  name: string;
  container?: string;
  follow?: boolean;
  tailLines?: number;
  timestamps?: boolean;
  previous?: boolean;
  sinceSeconds?: number;
  limitBytes?: number;
}

export function serveLogs(pods: PodManager, params: LogsParams, reply: RpcReply, now: () => number): void {
  const worker = pods.findPod(params.namespace, params.name);
  if (!worker) {
    reply.error(404, `pod "${params.name}" is not on this node`);
    return;
  }
  if (params.container && !worker.containerNames.includes(params.container)) {
    reply.error(400, `container ${params.container} is not valid for pod ${params.name}`);
    return;
  }
  const buffer = worker.logs(params.container, params.previous ?? false);
  if (!buffer) {
    reply.error(400, `previous terminated container "${params.container ?? worker.containerNames[0]}" in pod "${params.name}" not found`);
    return;
  }
  const timestamps = params.timestamps ?? false;
  const lines = buffer.read({
    // a follower gets an unfinished line once it is complete: shown now, it would be shown twice
    partial: !params.follow || params.previous === true,
    ...(params.tailLines !== undefined ? { tailLines: params.tailLines } : {}),
    ...(params.sinceSeconds !== undefined ? { sinceMs: now() - params.sinceSeconds * 1000 } : {}),
    ...(params.limitBytes !== undefined ? { limitBytes: params.limitBytes } : {}),
  });
  let text = '';
  for (const line of lines) {
    text += formatLogLine(line, timestamps);
    if (text.length >= CHUNK_BYTES) {
      reply.data(text);
      text = '';
    }
  }
  if (!params.follow || params.previous) {
    reply.done(text);
    return;
  }
  if (text) reply.data(text);
  // follow: batch lines that arrive together into one message
  let batch = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (batch) reply.data(batch);
    batch = '';
  };
  const stop = buffer.follow((line: LogLine) => {
    batch += formatLogLine(line, timestamps);
    if (batch.length >= CHUNK_BYTES) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  }, () => {
    flush();
    reply.done();
  });
  reply.signal.addEventListener('abort', stop, { once: true });
}
