// Seeded fuzz of the HTTPS API (real server on loopback, SQLite file store): 10,000 mutated Pods,
// Deployments, Services, StatefulSets, CronJobs and patches must never get a 5xx, and the server must be healthy afterwards.
// SKIFF_FUZZ_SEED picks another corpus; SKIFF_FUZZ_REQUESTS another size. Prints counts by status.
import { Agent, request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzRequest, fuzzTargets, type FuzzRequest } from '../support/fuzz-corpus.js';
import { startKubectlCluster, type KubectlCluster } from '../support/kubectl-harness.js';

const seed = Number(process.env['SKIFF_FUZZ_SEED'] ?? 20_260_601);
const total = Number(process.env['SKIFF_FUZZ_REQUESTS'] ?? 10_000);
const concurrency = 16;

describe('API fuzz', () => {
  let c: KubectlCluster;
  let agent: Agent;
  const send = (req: FuzzRequest) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    const url = new URL(c.url);
    const body = req.body === undefined ? undefined : Buffer.from(req.body);
    const r = request({
      host: url.hostname, port: url.port, method: req.method, path: req.path, agent,
      headers: {
        authorization: `Bearer ${c.token}`, accept: 'application/json',
        ...(body ? { 'content-type': req.contentType ?? 'application/json', 'content-length': String(body.length) } : {}),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });

  beforeAll(async () => {
    c = await startKubectlCluster('sqlite');
    agent = new Agent({ ca: c.caCert, keepAlive: true, maxSockets: concurrency });
  });
  afterAll(async () => {
    agent?.destroy();
    await c?.close();
  });

  it(`answers ${total} mutated requests (seed ${seed}) without a 5xx and stays healthy`, async () => {
    const targets = fuzzTargets();
    const existing = targets.map((t) => t.name);
    for (const t of targets) {
      const created = await send({ method: 'POST', path: t.collection, body: t.body });
      expect(created.status, created.body).toBe(201);
    }
    const byStatus: Record<string, number> = {};
    const serverErrors: string[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < total; i = next++) {
        const req = fuzzRequest(seed, i, existing);
        const res = await send(req);
        byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
        if (res.status >= 500 && serverErrors.length < 20) {
          serverErrors.push(`#${i} ${req.method} ${req.path} ${req.contentType ?? ''} -> ${res.status} ${res.body.slice(0, 300)} | body: ${(req.body ?? '').slice(0, 300)}`);
        }
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (Date.now() - started) / 1000;
    console.log(JSON.stringify({ fuzz: { seed, requests: total, seconds, byStatus, serverErrors: Object.entries(byStatus).filter(([s]) => Number(s) >= 500).reduce((n, [, v]) => n + v, 0) } }));
    expect(serverErrors).toEqual([]);
    expect(Object.values(byStatus).reduce((a, b) => a + b, 0)).toBe(total);

    // healthy afterwards: probes, a normal create and list still work (once the fuzzed quotas and limits are gone)
    for (const policy of ['resourcequotas', 'limitranges']) {
      expect((await send({ method: 'DELETE', path: `/api/v1/namespaces/default/${policy}` })).status).toBe(200);
    }
    expect((await send({ method: 'GET', path: '/healthz' })).status).toBe(200);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'after-fuzz' }, spec: { containers: [{ name: 'main', image: 'registry.local/app:1.0' }] } };
    expect((await send({ method: 'POST', path: '/api/v1/namespaces/default/pods', body: JSON.stringify(pod) })).status).toBe(201);
    const list = await send({ method: 'GET', path: '/api/v1/namespaces/default/pods?labelSelector=app%3Dfuzz' });
    expect(list.status).toBe(200);
    expect(JSON.parse(list.body).kind).toBe('PodList');
    expect(JSON.parse((await send({ method: 'GET', path: '/api/v1/namespaces/default/pods/after-fuzz' })).body).metadata.name).toBe('after-fuzz');
  }, 600_000); // 15-35 s alone; minutes on a machine shared by seven engineers
});
