// A reused http-health handler alone under concurrent load (docs/benchmarks.md, "The reused
// handler's hot path"): `node dist/bench/handler-hot-path.js`, BENCH_REQUESTS (default 4,000)
// requests with BENCH_IN_FLIGHT (default 16) in flight after 200 to warm up; prints req/s and the
// worker-side handler call p50. Profile with `node --cpu-prof --cpu-prof-dir=DIR` (one profile per
// thread, the workers' included).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { digestOf } from '../runtime/component-digest.js';
import type { HttpHandlerContainer } from '../runtime/http-handler-container.js';
import type { HttpRequest } from '../runtime/pod-runtime.js';
import { WasmPodRuntime } from '../runtime/wasm-pod-runtime.js';
import { summarize } from './percentiles.js';

const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 4_000);
const IN_FLIGHT = Number(process.env['BENCH_IN_FLIGHT'] ?? 16);
const wasm = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'wasm-examples', 'http-health', 'http-health.wasm');
const bytes = new Uint8Array(readFileSync(wasm));
const request: HttpRequest = { method: 'GET', pathWithQuery: '/', scheme: 'http', authority: 'x', headers: [], body: new Uint8Array() };

const runtime = new WasmPodRuntime({ warmWorkers: 4 });
const component = await runtime.load(digestOf(bytes), async () => bytes);
const container = (await runtime.start({ id: 'web/0', component, args: ['web'], env: [], onOutput: () => undefined })) as unknown as HttpHandlerContainer;
for (let i = 0; i < 200; i++) await container.handleHttp(request, 30_000);
let next = 0;
const started = performance.now();
await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
  while (next++ < REQUESTS) await container.handleHttp(request, 30_000);
}));
const seconds = (performance.now() - started) / 1000;
const stats = container.instanceStats;
console.log(JSON.stringify({ requests: REQUESTS, inFlight: IN_FLIGHT, requestsPerSecond: Math.round(REQUESTS / seconds), instancesStarted: stats.instancesStarted, handleMs: summarize(stats.handleMs) }));
await container.stop(0);
await runtime.close();
