// The fleet benchmark's API probe while a workload runs (issue 13: "p99 of a `kubectl get pods -l
// ...` and of a create while it runs"): every `periodMs` it lists a small labelled set of pods
// (what `kubectl get pods -l` sends) and, on its own loop, creates a ConfigMap, each through the
// real HTTPS API on a client of its own (its own connection, as a second kubectl would have). A
// request that takes longer than the period delays the next one (one in flight per loop: the probe
// measures, it does not add load that grows with the latency). Also samples the control plane's RSS
// and its event-loop delay (prom-client's nodejs_eventloop_lag_* from GET /metrics, whose histogram
// restarts at each scrape: each sample is the max/p99 over one scrape period), and the delay of the
// probe's own event loop (where its timings are taken: bench/fleet-probe-process.ts runs it alone).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { KubeClient } from '../cli/kube-client.js';
import { summarize, type Summary } from './percentiles.js';

export interface ApiProbeOptions {
  /** A client of its own (a connection of its own). */
  client: KubeClient;
  /** `/api/v1/namespaces/{ns}/pods?labelSelector=...` for a small labelled set */
  listPath: string;
  /** `/api/v1/namespaces/{ns}/configmaps` */
  createPath: string;
  /** Distinguishes this probe's ConfigMaps from an earlier one's. */
  namePrefix: string;
  periodMs: number;
  /** The control plane's resident set, MB. */
  rssMB: () => Promise<number>;
  /** How often GET /metrics is scraped for the control plane's event-loop delay (0: never). */
  loopScrapeMs?: number;
}

/** Event-loop delay, ms: per scrape period, its max and p99 (the control plane); or over the run (the probe). */
export interface LoopDelayFigures {
  maxPerPeriodMs: Summary;
  p99PerPeriodMs: Summary;
  periodsOver100ms: number;
}

export interface ApiProbeFigures {
  periodMs: number;
  listPodsByLabelMs: Summary & { errors: number; itemsLastSeen: number };
  createConfigMapMs: Summary & { errors: number };
  controlPlaneRssMB: { max: number; last: number; samples: number };
  controlPlaneLoopDelay?: LoopDelayFigures & { scrapeMs: number };
  probeLoopDelayMs: { p50: number; p99: number; max: number };
}

/** `nodejs_eventloop_lag_<stat>_seconds` of a Prometheus text exposition, in ms (NaN when absent). */
export function loopLagMs(exposition: string, stat: 'max' | 'p99' | 'p50'): number {
  const match = new RegExp(`^nodejs_eventloop_lag_${stat}_seconds(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(exposition);
  return match ? Number(match[1]) * 1000 : NaN;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startApiProbe(o: ApiProbeOptions): { stop(): Promise<ApiProbeFigures> } {
  let stopped = false;
  const list: number[] = [];
  const create: number[] = [];
  let listErrors = 0;
  let createErrors = 0;
  let itemsLastSeen = 0;
  const rss: number[] = [];
  const lagMax: number[] = [];
  const lagP99: number[] = [];
  const probeLoop = monitorEventLoopDelay({ resolution: 10 });
  probeLoop.enable();
  const scrapeMs = o.loopScrapeMs ?? 1000;
  const scrape = async () => {
    const response = await o.client.request<string>('GET', '/metrics').catch(() => undefined);
    return response?.status === 200 ? response.text : undefined;
  };
  const loop = async (once: () => Promise<void>) => {
    while (!stopped) {
      const started = performance.now();
      await once();
      await delay(Math.max(0, o.periodMs - (performance.now() - started)));
    }
  };
  const timed = async (samples: number[], send: () => Promise<{ status: number; body: unknown }>, ok: number): Promise<unknown> => {
    const started = performance.now();
    try {
      const response = await send();
      if (response.status !== ok) return undefined;
      samples.push(performance.now() - started);
      return response.body;
    } catch {
      return undefined;
    }
  };
  let n = 0;
  const loops = [
    loop(async () => {
      const body = await timed(list, () => o.client.request<{ items: unknown[] }>('GET', o.listPath), 200) as { items: unknown[] } | undefined;
      if (body) itemsLastSeen = body.items.length;
      else listErrors++;
    }),
    loop(async () => {
      const name = `${o.namePrefix}-${n++}`;
      const body = await timed(create, () => o.client.request('POST', o.createPath, {
        apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { probe: o.namePrefix } }, data: { n: String(n) },
      }), 201);
      if (!body) createErrors++;
    }),
    loop(async () => {
      rss.push(await o.rssMB().catch(() => NaN));
    }),
  ];
  // the first scrape restarts the control plane's histogram; each later one covers one period
  if (scrapeMs > 0) {
    loops.push((async () => {
      await scrape();
      while (!stopped) {
        await delay(scrapeMs);
        const text = await scrape();
        if (!text) continue;
        lagMax.push(loopLagMs(text, 'max'));
        lagP99.push(loopLagMs(text, 'p99'));
      }
    })());
  }
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      const measured = rss.filter((x) => Number.isFinite(x));
      probeLoop.disable();
      const maxes = lagMax.filter((x) => Number.isFinite(x));
      return {
        periodMs: o.periodMs,
        listPodsByLabelMs: { ...summarize(list), errors: listErrors, itemsLastSeen },
        createConfigMapMs: { ...summarize(create), errors: createErrors },
        controlPlaneRssMB: { max: Math.max(...measured), last: measured.at(-1) ?? NaN, samples: measured.length },
        ...(scrapeMs > 0 ? {
          controlPlaneLoopDelay: {
            scrapeMs, maxPerPeriodMs: summarize(maxes), p99PerPeriodMs: summarize(lagP99.filter((x) => Number.isFinite(x))),
            periodsOver100ms: maxes.filter((x) => x > 100).length,
          },
        } : {}),
        probeLoopDelayMs: { p50: probeLoop.percentile(50) / 1e6, p99: probeLoop.percentile(99) / 1e6, max: probeLoop.max / 1e6 },
      };
    },
  };
}
