// The real kubectl against startApiServer over HTTPS, with a kubeconfig trusting the generated CA.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../../control-plane/api/api-app.js';
import { startApiServer, type ApiServer } from '../../../control-plane/api/api-server.js';
import { writeKubeconfig } from '../../../control-plane/api/kubeconfig.js';
import { ensureTls } from '../../../control-plane/api/tls.js';
import { ensureInitialNamespaces } from '../../../control-plane/resources/initial-namespaces.js';
import { ResourceStore } from '../../../control-plane/resources/resource-store.js';
import { openSqliteStore, type SqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';

const kubectlPath = '/usr/bin/kubectl';
const hasKubectl = existsSync(kubectlPath);
if (!hasKubectl) console.warn('skipping kubectl e2e: /usr/bin/kubectl is absent');

const podManifest = (name: string, image = 'registry.local/hello:1.0') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: web}
spec:
  containers:
  - name: main
    image: ${image}
    ports: [{containerPort: 8080}]
`;

describe.skipIf(!hasKubectl)('kubectl against the API server', () => {
  let dir: string;
  let store: SqliteStore;
  let server: ApiServer;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-kubectl-'));
    store = await openSqliteStore({ path: join(dir, 'state.db'), compactIntervalMs: 0 });
    const resources = new ResourceStore(store);
    await ensureInitialNamespaces(resources);
    const tls = await ensureTls(join(dir, 'pki'), { hosts: [] });
    const app = createApiApp({ resources, tokens: (t) => (t === 'e2e-token' ? { name: 'admin', groups: ['system:masters'] } : undefined) });
    server = await startApiServer({ app, host: '127.0.0.1', port: 0, tls });
    await writeKubeconfig(join(dir, 'kubeconfig'), { server: server.url, caCert: tls.caCert, token: 'e2e-token' });
    env = { PATH: process.env['PATH'], HOME: dir, KUBECONFIG: join(dir, 'kubeconfig') };
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const kubectl = (args: string[], stdin?: string) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(kubectlPath, args, { env, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
  });

  it('applies a pod manifest, then reports it unchanged', async () => {
    await writeFile(join(dir, 'pod.yaml'), podManifest('web'));
    expect((await kubectl(['apply', '-f', join(dir, 'pod.yaml')])).stdout.trim()).toBe('pod/web created');
    expect((await kubectl(['apply', '-f', join(dir, 'pod.yaml')])).stdout.trim()).toBe('pod/web unchanged');
    expect((await kubectl(['apply', '-f', '-'], podManifest('web', 'registry.local/hello:2.0'))).stdout.trim()).toBe('pod/web configured');
  });

  it('prints pods as a table, wide, yaml, json and names', async () => {
    const table = (await kubectl(['get', 'pods'])).stdout.split('\n');
    expect(table[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(table[1]).toMatch(/^web\s+0\/1\s+Pending\s+0\s+\d+s$/);
    expect((await kubectl(['get', 'pods', '-o', 'wide'])).stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
    expect((await kubectl(['get', 'pod', 'web', '-o', 'yaml'])).stdout).toContain('imagePullPolicy: IfNotPresent');
    const json = JSON.parse((await kubectl(['get', 'pod', 'web', '-o', 'json'])).stdout) as { spec: { containers: Array<{ image: string }> } };
    expect(json.spec.containers[0]?.image).toBe('registry.local/hello:2.0');
    expect((await kubectl(['get', 'po', '-o', 'name'])).stdout.trim()).toBe('pod/web');
  });

  it('filters with label and field selectors, across namespaces', async () => {
    expect((await kubectl(['get', 'pods', '-l', 'app in (web,db)', '-o', 'name'])).stdout.trim()).toBe('pod/web');
    expect((await kubectl(['get', 'pods', '-l', 'app!=web'])).stderr).toContain('No resources found');
    expect((await kubectl(['get', 'pods', '-A', '--field-selector', 'status.phase=Pending'])).stdout).toMatch(/default\s+web/);
  });

  it('creates and lists namespaces (kubectl sends protobuf)', async () => {
    expect((await kubectl(['create', 'namespace', 'team'])).stdout.trim()).toBe('namespace/team created');
    const ns = (await kubectl(['get', 'ns'])).stdout;
    expect(ns).toMatch(/^NAME\s+STATUS\s+AGE/);
    expect(ns).toMatch(/kube-system\s+Active/);
    expect(ns).toMatch(/team\s+Active/);
  });

  it('labels a pod', async () => {
    expect((await kubectl(['label', 'pod', 'web', 'tier=front'])).stdout.trim()).toBe('pod/web labeled');
    expect((await kubectl(['get', 'pod', 'web', '--show-labels'])).stdout).toContain('app=web,tier=front');
  });

  it('prints server errors like a real cluster', async () => {
    expect((await kubectl(['get', 'pod', 'nope'])).stderr.trim()).toBe('Error from server (NotFound): pods "nope" not found');
    expect((await kubectl(['create', 'namespace', 'team'])).stderr.trim()).toBe('Error from server (AlreadyExists): namespaces "team" already exists');
    const bad = await kubectl(['apply', '-f', '-'], podManifest('bad', '""'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('The Pod "bad" is invalid: spec.containers[0].image: Required value');
  });

  it('lists api-resources with short names', async () => {
    const out = (await kubectl(['api-resources'])).stdout;
    expect(out).toMatch(/pods\s+po\s+v1\s+true\s+Pod/);
    expect(out).toMatch(/leases\s+coordination.k8s.io\/v1\s+true\s+Lease/);
  });

  it('watches pods and sees an ADDED event', async () => {
    const child = spawn(kubectlPath, ['get', 'pods', '-w', '--output-watch-events'], { env });
    let out = '';
    const seen = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/ADDED\s+watched/.test(out)) resolve();
    }));
    try {
      // The watch starts after kubectl's list: wait for that list to print before creating the pod.
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      expect((await kubectl(['apply', '-f', '-'], podManifest('watched'))).code).toBe(0);
      await seen;
    } finally {
      child.kill();
    }
    expect(out).toMatch(/ADDED\s+watched\s+0\/1\s+Pending/);
  });

  it('deletes an unscheduled pod at once', async () => {
    expect((await kubectl(['delete', 'pod', 'web'])).stdout.trim()).toBe('pod "web" deleted');
    expect((await kubectl(['get', 'pod', 'web'])).stderr).toContain('NotFound');
  });
});
