// Starts Debian's Prometheus on loopback, scraping what the test names, for e2e suites: the real
// scraper checks what a user's Prometheus would (TLS with the cluster CA, bearer token files, the
// text format). Each server has its own config, data dir and free port, and stops with the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { TOOL_PATHS } from '../support/tools.js';
import { waitFor } from '../mqtt/wait-for.js';

export interface ScrapeJob {
  name: string;
  target: string;
  metricsPath: string;
  caCert: string;
  token: string;
}

export interface PrometheusServer {
  url: string;
  /** Targets as /api/v1/targets reports them. */
  targets(): Promise<Array<{ scrapePool: string; health: string; lastError: string }>>;
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startPrometheus(jobs: ScrapeJob[]): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-prometheus-'));
  const scrapeConfigs = [];
  for (const job of jobs) {
    await writeFile(join(dir, `${job.name}.ca`), job.caCert);
    await writeFile(join(dir, `${job.name}.token`), job.token, { mode: 0o600 });
    scrapeConfigs.push({
      job_name: job.name, scheme: 'https', metrics_path: job.metricsPath, scrape_interval: '1s', scrape_timeout: '1s',
      tls_config: { ca_file: join(dir, `${job.name}.ca`) },
      authorization: { type: 'Bearer', credentials_file: join(dir, `${job.name}.token`) },
      static_configs: [{ targets: [job.target] }],
    });
  }
  await writeFile(join(dir, 'prometheus.yml'), stringify({ global: { scrape_interval: '1s', evaluation_interval: '1s' }, scrape_configs: scrapeConfigs }));
  let child: ChildProcess | undefined;
  let output = '';
  const url = await (async () => {
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      child = spawn(TOOL_PATHS.prometheus, [
        `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (c: Buffer) => { output += c.toString(); });
      child.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
      const exited = new Promise<boolean>((resolve) => child!.once('exit', () => resolve(false)));
      const ready = waitFor('prometheus ready', async () => (await fetch(`http://127.0.0.1:${port}/-/ready`).catch(() => undefined))?.ok, { timeoutMs: 20_000, intervalMs: 100 }).then(() => true);
      if (await Promise.race([ready, exited])) return `http://127.0.0.1:${port}`;
      // the port was taken between finding and binding it: try another
      if (attempt >= 2) throw new Error(`prometheus did not start: ${output}`);
    }
  })();
  const api = async <T>(path: string): Promise<T> => {
    const body = await (await fetch(`${url}${path}`)).json() as { status: string; data: T };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${JSON.stringify(body)}`);
    return body.data;
  };
  return {
    url,
    targets: async () => (await api<{ activeTargets: Array<{ scrapePool: string; health: string; lastError: string }> }>('/api/v1/targets')).activeTargets,
    query: async (promql) => (await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(promql)}`)).result,
    async stop() {
      if (child && child.exitCode === null) {
        const gone = new Promise((resolve) => child!.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
