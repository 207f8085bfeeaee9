// The fleet benchmark's API probe while a workload runs (issue 13: "p99 of a `kubectl get pods -l
// ...` and of a create while it runs"): every `periodMs` it lists a small labelled set of pods
// (what `kubectl get pods -l` sends) and, on its own loop, creates a ConfigMap, each through the
// real HTTPS API on a client of its own (its own connection, as a second kubectl would have). A
// request that takes longer than the period delays the next one (one in flight per loop: the probe
// measures, it does not add load that grows with the latency). Also samples the control plane's RSS.
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
}

export interface ApiProbeFigures {
  periodMs: number;
  listPodsByLabelMs: Summary & { errors: number; itemsLastSeen: number };
  createConfigMapMs: Summary & { errors: number };
  controlPlaneRssMB: { max: number; last: number; samples: number };
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
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      const measured = rss.filter((x) => Number.isFinite(x));
      return {
        periodMs: o.periodMs,
        listPodsByLabelMs: { ...summarize(list), errors: listErrors, itemsLastSeen },
        createConfigMapMs: { ...summarize(create), errors: createErrors },
        controlPlaneRssMB: { max: Math.max(...measured), last: measured.at(-1) ?? NaN, samples: measured.length },
      };
    },
  };
}
