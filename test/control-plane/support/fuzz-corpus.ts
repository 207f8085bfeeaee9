// A seeded corpus of hostile API requests: Pods, Deployments, Services, StatefulSets, CronJobs, ResourceQuotas, LimitRanges, PodDisruptionBudgets, ReplicationControllers and PriorityClasses (and patches of them) with
// wrong types, huge values, deep nesting, "..", unicode, int overflow, missing and extra fields,
// duplicate keys, malformed JSON and odd paths. The same seed always gives the same requests.

export interface FuzzRequest {
  method: string;
  /** Sent exactly as given (no client-side normalisation). */
  path: string;
  body?: string;
  contentType?: string;
}

/** mulberry32: a small, fast, seedable PRNG (good enough to spread test cases, not for anything secret). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const NS = '/api/v1/namespaces/default';
const kinds = [
  { collection: `${NS}/pods`, base: (name: string): Json => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'fuzz' }, annotations: { note: 'x' } },
    spec: { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, nodeSelector: { edge: 'true' }, tolerations: [{ key: 'k', operator: 'Exists' }],
      containers: [{ name: 'main', image: 'registry.local/app:1.0', args: ['a'], env: [{ name: 'A', value: 'b' }],
        ports: [{ containerPort: 8080, protocol: 'TCP', name: 'http' }], resources: { limits: { cpu: '500m', memory: '64Mi' } },
        readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 5 }, volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      volumes: [{ name: 'data', emptyDir: { sizeLimit: '10Mi' } }] },
  }) },
  { collection: '/apis/apps/v1/namespaces/default/deployments', base: (name: string): Json => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: { replicas: 2, revisionHistoryLimit: 3, progressDeadlineSeconds: 600, selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'registry.local/app:1.0' }] } } },
  }) },
  { collection: `${NS}/services`, base: (name: string): Json => ({
    apiVersion: 'v1', kind: 'Service', metadata: { name },
    spec: { type: 'ClusterIP', selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], sessionAffinity: 'None' },
  }) },
  { collection: '/apis/apps/v1/namespaces/default/statefulsets', base: (name: string): Json => ({
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name },
    spec: { replicas: 2, serviceName: name, podManagementPolicy: 'Parallel', minReadySeconds: 0, ordinals: { start: 0 },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1, maxUnavailable: 1 } }, selector: { matchLabels: { app: name } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'registry.local/app:1.0' }] } } },
  }) },
  { collection: '/apis/batch/v1/namespaces/default/cronjobs', base: (name: string): Json => ({
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name },
    spec: { schedule: '*/5 * * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 30, suspend: false,
      successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1,
      jobTemplate: { metadata: { labels: { app: name } }, spec: { backoffLimit: 2, template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'main', image: 'registry.local/app:1.0' }] } } } } },
  }) },
  { collection: `${NS}/resourcequotas`, base: (name: string): Json => ({
    apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name },
    spec: { hard: { 'count/configmaps': '100', services: '50', 'requests.storage': '10Gi' }, scopes: ['NotTerminating'] },
  }) },
  { collection: `${NS}/limitranges`, base: (name: string): Json => ({
    apiVersion: 'v1', kind: 'LimitRange', metadata: { name },
    spec: { limits: [{ type: 'PersistentVolumeClaim', max: { storage: '5Gi' }, min: { storage: '1Mi' } }, { type: 'Pod', maxLimitRequestRatio: { cpu: '10' } }] },
  }) },
  { collection: '/apis/policy/v1/namespaces/default/poddisruptionbudgets', base: (name: string): Json => ({
    apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name },
    spec: { minAvailable: '50%', selector: { matchLabels: { app: name }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
  }) },
  { collection: `${NS}/replicationcontrollers`, base: (name: string): Json => ({
    apiVersion: 'v1', kind: 'ReplicationController', metadata: { name },
    spec: { replicas: 0, selector: { app: name }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'registry.local/app:1.0' }] } } },
  }) },
  { collection: '/apis/scheduling.k8s.io/v1/priorityclasses', base: (name: string): Json => ({
    apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value: 1000, description: 'fuzz', preemptionPolicy: 'Never',
  }) },
];

/** One valid object per kind of the corpus (name `fuzz-<n>`): the targets of its updates and patches. */
export function fuzzTargets(): Array<{ name: string; collection: string; body: string }> {
  return kinds.map((k, i) => ({ name: `fuzz-${i}`, collection: k.collection, body: JSON.stringify(k.base(`fuzz-${i}`)) }));
}

const hostileValues: Array<(r: () => number) => Json> = [
  () => 'string', () => '', () => 0, () => -1, () => 1.5, () => true, () => null, () => [], () => ({}), () => [1, 'two', null],
  () => 2147483648, () => -2147483649, () => 2 ** 53 + 2, () => 9223372036854775807, () => -9223372036854775808, () => 1e308, () => -1e308,
  () => '..', () => '../../etc/passwd', () => '%2e%2e', () => '.', () => '/', () => 'a/b',
  () => '\u0000', () => '\ud800', () => '💥🦀', () => '\u202etxt.exe', () => 'Ω'.repeat(300), (r) => 'x'.repeat(1 + Math.floor(r() * 100_000)),
  (r) => nest(1 + Math.floor(r() * 140)), () => ({ $patch: 'replace' }), () => ({ $retainKeys: 'x' }), () => 'NaN', () => '1e999',
  (r) => Array.from({ length: 1 + Math.floor(r() * 2000) }, (_, i) => i),
];

function nest(depth: number): Json {
  let v: Json = 'leaf';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

/** Every container (object or array) in `doc`, with the keys or indexes it has. */
function containers(doc: Json): Array<{ [k: string]: Json } | Json[]> {
  const out: Array<{ [k: string]: Json } | Json[]> = [];
  const stack: Json[] = [doc];
  while (stack.length) {
    const v = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    out.push(v);
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push(child);
  }
  return out;
}

/** One to three mutations: replace a value, add an unknown field, remove a field, or type-swap a container. */
function mutate(r: () => number, doc: Json): Json {
  for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
    const target = pick(r, containers(doc));
    const keys: Array<string | number> = Array.isArray(target) ? target.map((_, i) => i) : Object.keys(target);
    const roll = r();
    if (keys.length === 0 || roll < 0.15) {
      if (Array.isArray(target)) target.push(pick(r, hostileValues)(r));
      else target[pick(r, ['bogus', 'imagePullPolcy', 'vaule', 'replicaz', '__proto__', 'constructor', 'x'.repeat(500)])] = pick(r, hostileValues)(r);
    } else if (roll < 0.3) {
      const key = pick(r, keys);
      if (Array.isArray(target)) target.splice(Number(key), 1);
      else delete target[key as string];
    } else {
      const key = pick(r, keys);
      (target as Record<string | number, Json>)[key] = pick(r, hostileValues)(r);
    }
  }
  return doc;
}

const names = ['..', '.', '%2e%2e', '%2E.', 'a%2fb', '%00', '%ff', 'ok-name', 'UPPER', 'x'.repeat(300), '%F0%9F%92%A5', 'a..b', '..%2F..'];

/** Re-serialises with a duplicated key now and then, or truncates the text (malformed JSON). */
function serialise(r: () => number, doc: Json): string {
  let text = JSON.stringify(doc);
  const roll = r();
  if (roll < 0.05) text = text.slice(0, Math.floor(r() * text.length));
  else if (roll < 0.1 && text.startsWith('{"apiVersion"')) text = `{"metadata":{"name":"dup"},${text.slice(1)}`;
  else if (roll < 0.12) text = `${'['.repeat(3000)}${']'.repeat(3000)}`;
  return text;
}

const patchTypes = ['application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json-patch+json', 'application/apply-patch+yaml'];
const validations = ['', '', '?fieldValidation=Strict', '?fieldValidation=Warn', '?fieldValidation=Ignore', '?fieldValidation=bogus', '?dryRun=All'];

/** The i-th request of the corpus for `seed`; existing names (one per kind) are the targets of updates and patches. */
export function fuzzRequest(seed: number, i: number, existing: readonly string[]): FuzzRequest {
  const r = seededRandom((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
  const k = Math.floor(r() * kinds.length);
  const kind = kinds[k]!;
  const existingName = existing[k]!;
  const query = pick(r, validations);
  const roll = r();
  if (roll < 0.4) {
    return { method: 'POST', path: `${kind.collection}${query}`, body: serialise(r, mutate(r, kind.base(`fuzz-${i}`))) };
  }
  if (roll < 0.5) {
    const doc = kind.base(existingName) as { [k: string]: Json };
    return { method: 'PUT', path: `${kind.collection}/${existingName}${query}`, body: serialise(r, mutate(r, doc)) };
  }
  if (roll < 0.85) {
    const contentType = pick(r, patchTypes);
    let patch: Json;
    if (contentType === 'application/json-patch+json') {
      const op = pick(r, ['add', 'replace', 'remove', 'move', 'copy', 'test', 'bogus']);
      const path = pick(r, ['/spec/containers/0/image', '/spec/replicas', '/spec/ports/0/port', '/metadata/labels/a', '/spec', '/spec/template/spec/containers',
        '/metadata/annotations', '/spec/selector', '/spec/containers/-', '/spec/containers/99999999999', '/a/../b', '', '/spec/ports/-1']);
      patch = [{ op, path, from: pick(r, ['/spec', '/metadata', '/spec/containers/0']), value: pick(r, hostileValues)(r) }];
      if (r() < 0.2) patch = pick(r, hostileValues)(r);
    } else {
      patch = mutate(r, contentType === 'application/apply-patch+yaml' ? kind.base(existingName) : { spec: (kind.base(existingName) as { spec: Json }).spec });
    }
    return { method: 'PATCH', path: `${kind.collection}/${existingName}${query}`, body: serialise(r, patch), contentType };
  }
  if (roll < 0.95) {
    const name = pick(r, names);
    const method = pick(r, ['GET', 'DELETE', 'PUT', 'PATCH']);
    return { method, path: `${kind.collection}/${name}${pick(r, ['', '/status', '/..', '/%2e%2e/exec', '/scale'])}`, body: '{}', contentType: method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' };
  }
  return { method: 'POST', path: kind.collection, body: serialise(r, mutate(r, kind.base(`fuzz-${i}`))), contentType: pick(r, ['application/yaml', 'text/plain', 'application/vnd.kubernetes.protobuf', 'application/json; charset=utf-16']) };
}
