// Scrapes an agent's Prometheus metrics over the node channel (`metrics` rpc, answered in chunks):
// what GET /api/v1/nodes/{name}/proxy/metrics serves, so agents need no inbound port.
import { ServiceUnavailableError } from '../../api/errors.js';
import type { NodeMetricsScraper } from '../api/prometheus-routes.js';
import { NodeCallError, type NodeChannel } from '../node-channel/node-channel.js';

/** Prometheus' default scrape timeout is 10 s. */
const SCRAPE_TIMEOUT_MS = 10_000;
/** An agent's exposition is a few KiB per pod; far more means something is wrong. */
export const MAX_NODE_METRICS_BYTES = 8 << 20;

export class NodeMetricsScraperOverChannel implements NodeMetricsScraper {
  constructor(private readonly channel: NodeChannel, private readonly timeoutMs = SCRAPE_TIMEOUT_MS) {}

  async scrape(node: string, signal: AbortSignal): Promise<string> {
    const chunks: string[] = [];
    let size = 0;
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const take = (chunk: unknown) => {
      if (typeof chunk !== 'string') return;
      size += chunk.length;
      if (size > MAX_NODE_METRICS_BYTES) {
        abort.abort();
        return;
      }
      chunks.push(chunk);
    };
    try {
      take(await this.channel.call(node, 'metrics', {}, { timeoutMs: this.timeoutMs, signal: abort.signal, onData: take }));
    } catch (error) {
      if (size > MAX_NODE_METRICS_BYTES) throw new ServiceUnavailableError(`node ${node} sent more than ${MAX_NODE_METRICS_BYTES} bytes of metrics`);
      if (error instanceof NodeCallError && error.code === 501) {
        throw new ServiceUnavailableError(`node ${node} runs an agent that does not serve metrics`, undefined, { cause: error });
      }
      throw new ServiceUnavailableError(`could not get metrics from node ${node}: ${(error as Error).message}`, undefined, { cause: error });
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    return chunks.join('');
  }
}
