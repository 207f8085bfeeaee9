// A pod's projected ServiceAccount token end to end: guests read token, ca.crt and namespace from
// /var/run/secrets/kubernetes.io/serviceaccount (the kube-api-access volume the admission added and
// the agent filled with a token bound to the pod, asked with its node credential); the token works
// against the API with @kubernetes/client-node and python3-kubernetes' in-cluster loader, as the
// ServiceAccount (kubectl auth can-i --as agrees), and dies with the pod.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/types/pod.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { waitFor as poll } from '../mqtt/wait-for.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const NS = '/api/v1/namespaces/default';
const PODS = `${NS}/pods`;
const DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const SA_USER = 'system:serviceaccount:default:reader';
const hasPythonClient = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import kubernetes'], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn('skipping the python3-kubernetes part of the pod ServiceAccount e2e: /usr/bin/python3 cannot import kubernetes');
    return false;
  }
})();

describe('a pod\'s projected ServiceAccount token', () => {
  let cluster: Cluster;
  let tmp: string;
  let token: string;
  let caCert: string;
  let pod: Pod;
  const logs = async (container: string) => (await cluster.client.request<string>('GET', `${PODS}/reader/log?container=${container}`)).text;
  const clientFor = (bearer: string) => {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: cluster.cp.apiUrl, caData: Buffer.from(caCert).toString('base64') }],
      users: [{ name: 'sa', token: bearer }],
      contexts: [{ name: 'c', cluster: 'c', user: 'sa' }],
      currentContext: 'c',
    });
    return kc;
  };

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'skiff-pod-sa-e2e-'));
    cluster = await startCluster();
    await cluster.cp.registry.push('examples/fsutil:latest', readFileSync('wasm-examples/fsutil/fsutil.wasm'));
    expect((await cluster.client.request('POST', `${NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader' } })).status).toBe(201);
    // each file, then the directory's listing (a finished container's last line is logged only with its newline: see before())
    const cat = (name: string, file: string) => ({ name, image: 'examples/fsutil:latest', args: ['cat', `${DIR}/${file}`, ';', 'ls', DIR] });
    expect((await cluster.client.request('POST', PODS, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'reader' },
      spec: { serviceAccountName: 'reader', restartPolicy: 'Never', containers: [cat('token', 'token'), cat('ca', 'ca.crt'), cat('ns', 'namespace')] },
    })).status).toBe(201);
    pod = await waitFor<Pod>(cluster.client, `${PODS}?fieldSelector=metadata.name%3Dreader`, (e) => ['Succeeded', 'Failed'].includes(e.object.status?.phase ?? ''), 60_000);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('is a file in the guest, with the cluster CA and the namespace beside it', async () => {
    expect(pod.status?.phase, JSON.stringify(pod.status)).toBe('Succeeded');
    // FILE then `ls`: the file's text, the first entry right after it, then the other two entries
    const names = ['ca.crt', 'namespace', 'token'];
    const before = async (container: string) => {
      const text = await logs(container);
      const rest = text.split('\n').slice(-3, -1);
      expect(rest.every((n) => names.includes(n)), text).toBe(true);
      const first = names.find((n) => !rest.includes(n))!;
      const withFirst = text.slice(0, text.length - rest.join('\n').length - 2);
      expect(withFirst.endsWith(first), text).toBe(true);
      return withFirst.slice(0, -first.length);
    };
    token = await before('token');
    caCert = await before('ca');
    expect(token.split('.')).toHaveLength(3);
    expect(caCert).toBe(cluster.cp.caCert);
    expect(await before('ns')).toBe('default');
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string; exp: number; iat: number; 'kubernetes.io': { pod: { name: string; uid: string } } };
    expect(claims.sub).toBe(SA_USER);
    expect(claims['kubernetes.io'].pod).toEqual({ name: 'reader', uid: pod.metadata.uid });
    expect(claims.exp - claims.iat).toBe(3607);
  });

  it('works against the API as the ServiceAccount (client-node), with what RBAC grants it', async () => {
    const kc = clientFor(token);
    const review = await kc.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    expect(review.status?.userInfo?.username).toBe(SA_USER);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await expect(core.listNamespacedPod({ namespace: 'default' })).rejects.toMatchObject({ code: 403 });
    expect((await cluster.client.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'reader-view' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'default' }],
    })).status).toBe(201);
    const pods = await poll('the binding to reach the authorizer', async () => core.listNamespacedPod({ namespace: 'default' }).catch(() => undefined), { timeoutMs: 20_000, intervalMs: 100 });
    expect(pods.items.map((p) => p.metadata?.name)).toContain('reader');
  }, 60_000);

  it.skipIf(!hasTool('kubectl', 'kubectl auth can-i --as a pod ServiceAccount'))('agrees with kubectl auth can-i --as the ServiceAccount', async () => {
    const canI = (args: string[]) => new Promise<string>((resolve) => {
      execFile(TOOL_PATHS.kubectl, ['auth', 'can-i', ...args, '--as', SA_USER, '-n', 'default'],
        { env: { PATH: process.env['PATH'], HOME: tmp, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 60_000 },
        (_e, stdout) => resolve(stdout.trim()));
    });
    expect(await canI(['list', 'pods'])).toBe('yes');
    expect(await canI(['delete', 'pods'])).toBe('no');
    expect(await canI(['get', 'secrets'])).toBe('no');
  }, 60_000);

  it.skipIf(!hasPythonClient)('works with python3-kubernetes\' in-cluster loader', async () => {
    writeFileSync(join(tmp, 'token'), token);
    writeFileSync(join(tmp, 'ca.crt'), caCert);
    const url = new URL(cluster.cp.apiUrl);
    const script = [
      'import sys', 'from kubernetes import client, config',
      'from kubernetes.config.incluster_config import InClusterConfigLoader',
      `InClusterConfigLoader(token_filename=sys.argv[1], cert_filename=sys.argv[2], environ={"KUBERNETES_SERVICE_HOST": "${url.hostname}", "KUBERNETES_SERVICE_PORT": "${url.port}"}).load_and_set()`,
      'print(",".join(sorted(p.metadata.name for p in client.CoreV1Api().list_namespaced_pod("default").items)))',
    ].join('\n');
    const out = await new Promise<string>((resolve, reject) => {
      execFile('/usr/bin/python3', ['-c', script, join(tmp, 'token'), join(tmp, 'ca.crt')], { timeout: 60_000 }, (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout)));
    });
    expect(out.trim().split(',')).toContain('reader');
  }, 60_000);

  it('stops working once the pod is deleted', async () => {
    expect((await cluster.client.request('DELETE', `${PODS}/reader?gracePeriodSeconds=0`)).status).toBe(200);
    const core = clientFor(token).makeApiClient(k8s.CoreV1Api);
    await poll('the token to be refused', async () => core.listNamespacedPod({ namespace: 'default' }).then(() => false, (e: { code?: number }) => e.code === 401), { timeoutMs: 20_000, intervalMs: 100 });
  }, 60_000);
});
