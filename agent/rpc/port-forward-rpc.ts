// The `portforward` request (`kubectl port-forward`, one per local connection): a byte stream to
// one of the pod's ports (pods/pod-stream.ts). The call's input messages carry what the client
// sends (`{data: base64}`, then `{end: true}`); the pod's bytes go back as output chunks on
// stream 1; the call is done when the pod's side ends.
import type { Clock } from '../../api/clock.js';
import type { RpcReply } from '../agent-channel.js';
import type { PodManager } from '../pods/pod-manager.js';
import { openPodStream, PodStreamError } from '../pods/pod-stream.js';

/** Largest output chunk sent in one MQTT message (bytes, before base64). */
const CHUNK_BYTES = 32 * 1024;

export interface PortForwardParams {
  namespace: string;
  name: string;
  port: number;
}

export function servePortForward(pods: PodManager, params: PortForwardParams, reply: RpcReply, clock: Clock): void {
  const worker = pods.findPod(params.namespace, params.name);
  if (!worker) return reply.error(404, `pod "${params.name}" is not on this node`);
  const port = params.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return reply.error(400, `invalid port ${JSON.stringify(port)}: want 1-65535`);
  let stream;
  try {
    stream = openPodStream(worker.podNetwork, port, params.name, clock);
  } catch (error) {
    if (error instanceof PodStreamError) return reply.error(400, `error forwarding port ${port} to pod ${params.name}: ${error.message}`);
    throw error;
  }
  const opened = stream;
  reply.signal.addEventListener('abort', () => opened.destroy(), { once: true });
  reply.onInput((input) => {
    if (typeof input !== 'object' || input === null) return;
    const { data, end } = input as { data?: unknown; end?: unknown };
    if (typeof data === 'string') opened.write(Buffer.from(data, 'base64'));
    if (end === true) opened.end();
  });
  opened.read((bytes) => {
    for (let at = 0; at < bytes.length; at += CHUNK_BYTES) reply.data({ stream: 1, data: bytes.subarray(at, at + CHUNK_BYTES).toString('base64') });
  }, () => reply.done({ exitCode: 0 }));
}
