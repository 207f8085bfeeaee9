// An HTTPS API server over a real store (openStore: SQLite file or etcd://), a kubeconfig for it, and a kubectl runner.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono, type MiddlewareHandler } from 'hono';
import { createApiApp } from '../../../control-plane/api/api-app.js';
import { startApiServer } from '../../../control-plane/api/api-server.js';
import { writeKubeconfig } from '../../../control-plane/api/kubeconfig.js';
import { ensureTls } from '../../../control-plane/api/tls.js';
import { ensureInitialNamespaces, ensureSystemPriorityClasses } from '../../../control-plane/resources/initial-namespaces.js';
import { ResourceStore } from '../../../control-plane/resources/resource-store.js';
import { openStore } from '../../../control-plane/store/open-store.js';
import { TOOL_PATHS } from '../../support/tools.js';

export interface KubectlResult { code: number; stdout: string; stderr: string }

export interface KubectlCluster {
  dir: string;
  url: string;
  token: string;
  caCert: string;
  kubeconfigPath: string;
  resources: ResourceStore;
  kubectl(args: string[], stdin?: string): Promise<KubectlResult>;
  /** kubectl's stdout; throws with its stderr when it exits non-zero. */
  kubectlOk(args: string[], stdin?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * `withoutOpenApiV3`: the server answers /openapi/v3 with 404, as servers before Kubernetes 1.24 did (kubectl falls back to v2).
 * `middleware`: runs around every request (to watch what kubectl asks for and gets).
 */
export async function startKubectlCluster(storeUrl = 'sqlite', options: { withoutOpenApiV3?: boolean; middleware?: MiddlewareHandler } = {}): Promise<KubectlCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-kubectl-'));
  const store = await openStore(storeUrl, dir);
  const resources = new ResourceStore(store);
  await ensureInitialNamespaces(resources);
  await ensureSystemPriorityClasses(resources);
  const tls = await ensureTls(join(dir, 'pki'), { hosts: [] });
  const token = 'e2e-token';
  const app = createApiApp({ resources, tokens: (t) => (t === token ? { name: 'admin', groups: ['system:masters'] } : undefined) });
  let served = app;
  if (options.withoutOpenApiV3 || options.middleware) {
    served = new Hono();
    if (options.middleware) served.use(options.middleware);
    if (options.withoutOpenApiV3) {
      served.get('/openapi/v3', (c) => c.body(null, 404));
      served.get('/openapi/v3/*', (c) => c.body(null, 404));
    }
    served.route('/', app);
  }
  const server = await startApiServer({ app: served, host: '127.0.0.1', port: 0, tls });
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeKubeconfig(kubeconfigPath, { server: server.url, caCert: tls.caCert, token });
  const env = { PATH: process.env['PATH'], HOME: dir, KUBECONFIG: kubeconfigPath };
  const kubectl = (args: string[], stdin?: string) => new Promise<KubectlResult>((resolve) => {
    const child = execFile(TOOL_PATHS.kubectl, args, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
  const kubectlOk = async (args: string[], stdin?: string) => {
    const r = await kubectl(args, stdin);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  return {
    dir, url: server.url, token, caCert: tls.caCert, kubeconfigPath, resources, kubectl, kubectlOk,
    async close() {
      await server.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
