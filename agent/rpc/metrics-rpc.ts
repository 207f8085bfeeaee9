// The `metrics` request: the agent's Prometheus exposition, in chunks small enough for MQTT. What
// GET /api/v1/nodes/NAME/proxy/metrics returns through the API server.
import type { RpcReply } from '../agent-channel.js';

/** Largest chunk sent in one MQTT message (characters of text, ASCII). */
const CHUNK_CHARS = 48 * 1024;

export interface MetricsText {
  metrics(): Promise<string>;
}

export async function serveMetrics(source: MetricsText, reply: RpcReply): Promise<void> {
  const text = await source.metrics();
  if (reply.signal.aborted) return;
  const chunks: string[] = [];
  for (let at = 0; at < text.length; at += CHUNK_CHARS) chunks.push(text.slice(at, at + CHUNK_CHARS));
  const last = chunks.pop() ?? '';
  for (const chunk of chunks) reply.data(chunk);
  reply.done(last);
}
