// What decoding a request body as the real API server does costs, per object: the JSON scan (nesting
// cap, duplicate keys) + JSON.parse, and the schema walk (type check, unknown fields, pruning), next to
// a bare JSON.parse, for a realistic Pod and Deployment. Also the create latency through the whole
// HTTP app (in process, no TLS) with fieldValidation Strict and Ignore.
// Usage: node dist/bench/request-decoding.js [iterations=20000]. Prints JSON (microseconds, medians of 7 rounds).
import { createApiApp } from '../control-plane/api/api-app.js';
import { parseJsonBody } from '../control-plane/api/json-body.js';
import { ensureInitialNamespaces } from '../control-plane/resources/initial-namespaces.js';
import { ResourceStore } from '../control-plane/resources/resource-store.js';
import { checkFieldTypes } from '../control-plane/resources/schema/check-field-types.js';
import { schemaOfKind } from '../control-plane/resources/schema/object-schemas.js';
import { openSqliteStore } from '../control-plane/store/sqlite/sqlite-store.js';

const iterations = Number(process.argv[2] ?? 20_000);

const container = (name: string) => ({
  name, image: 'registry.local/app:1.0', args: ['--port', '8080'], env: [{ name: 'MODE', value: 'edge' }, { name: 'LOG', value: 'info' }],
  ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }], resources: { limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '100m' } },
  readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 }, volumeMounts: [{ name: 'data', mountPath: '/data' }],
});
const podSpec = { containers: [container('main'), container('sidecar')], volumes: [{ name: 'data', emptyDir: { sizeLimit: '10Mi' } }],
  tolerations: [{ key: 'edge', operator: 'Exists', effect: 'NoSchedule' }], nodeSelector: { 'skiff.dev/edge': 'true' } };
const objects = {
  pod: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web', tier: 'front' }, annotations: { note: 'x' } }, spec: podSpec },
  deployment: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { app: 'web' } },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      template: { metadata: { labels: { app: 'web' } }, spec: podSpec } } },
};

/** Median over 7 rounds of the mean time per call, in microseconds. */
function time(fn: () => void, n = iterations): number {
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    rounds.push(((performance.now() - t0) * 1000) / n);
  }
  rounds.sort((a, b) => a - b);
  return Math.round(rounds[3]! * 100) / 100;
}

const perObject: Record<string, Record<string, number>> = {};
for (const [name, obj] of Object.entries(objects)) {
  const text = JSON.stringify(obj);
  const schema = schemaOfKind(obj.apiVersion, obj.kind)!;
  const jsonParse = time(() => JSON.parse(text));
  const scanAndParse = time(() => parseJsonBody(text));
  const typeCheck = time(() => checkFieldTypes(schema, JSON.parse(text), { prune: true })) - jsonParse;
  perObject[name] = { bytes: text.length, jsonParseUs: jsonParse, scanAndParseUs: scanAndParse, typeCheckAndPruneUs: Math.round(typeCheck * 100) / 100,
    decodeOverJsonParse: Math.round(((scanAndParse + typeCheck) / jsonParse) * 100) / 100 };
}

// the whole create path in process: body decoding, defaulting, validation, an in-memory SQLite write
const store = await openSqliteStore({ path: ':memory:', compactIntervalMs: 0 });
const resources = new ResourceStore(store);
await ensureInitialNamespaces(resources);
const app = createApiApp({ resources, tokens: (t) => (t === 'bench' ? { name: 'admin', groups: ['system:masters'] } : undefined) });
let created = 0;
/** Median latency (µs) of pod creates through the app, alternating the two modes so both see the same store. */
const createMedians = async (modes: string[], count: number): Promise<Record<string, number>> => {
  const samples: Record<string, number[]> = Object.fromEntries(modes.map((m) => [m, []]));
  for (let i = 0; i < count; i++) {
    for (const mode of modes) {
      const body = JSON.stringify({ ...objects.pod, metadata: { ...objects.pod.metadata, name: `web-${created++}` } });
      const t0 = performance.now();
      const res = await app.request(`/api/v1/namespaces/default/pods?fieldValidation=${mode}`, {
        method: 'POST', body, headers: { authorization: 'Bearer bench', 'content-type': 'application/json' },
      });
      samples[mode]!.push((performance.now() - t0) * 1000);
      if (res.status !== 201) throw new Error(`create answered ${res.status}: ${await res.text()}`);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([m, s]) => [m, Math.round(s.sort((a, b) => a - b)[Math.floor(s.length / 2)]!)]));
};
await createMedians(['Ignore'], 300); // warm up
const creates = Math.max(500, Math.floor(iterations / 10));
const podCreateMedianUs = await createMedians(['Strict', 'Ignore'], creates);
await store.close();
console.log(JSON.stringify({ iterations, perObject, podCreateMedianUs: { ...podCreateMedianUs, creates } }, null, 2));
