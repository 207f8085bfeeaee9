import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/types/pod.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { e2eBrokers, startCluster, waitFor, type Cluster } from './cluster-harness.js';

const run = promisify(execFile);
const PODS = '/api/v1/namespaces/default/pods';
const byName = (name: string) => `${PODS}?fieldSelector=metadata.name%3D${name}`;

/** `kubectl exec` with the real kubectl (WebSocket, v5.channel.k8s.io) against the agent's one-shot instances. */
describe.skipIf(!hasTool('kubectl', 'kubectl exec e2e')).each(e2eBrokers('kubectl exec e2e'))('kubectl exec (%s broker)', (broker) => {
  let cluster: Cluster;
  const kubectl = (args: string[], input?: string) => {
    const child = run(TOOL_PATHS.kubectl, args, { env: { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 60_000 });
    if (input !== undefined) child.child.stdin!.end(input);
    return child;
  };
  const failure = async (args: string[]) => {
    const error = await kubectl(args).then(() => undefined, (e: { code: number; stdout: string; stderr: string }) => e);
    expect(error).toBeDefined();
    return error!;
  };

  beforeAll(async () => {
    cluster = await startCluster({ broker });
    for (const name of ['hello', 'probed']) await cluster.cp.registry.push(`examples/${name}:latest`, readFileSync(`wasm-examples/${name}/${name}.wasm`));
    const pod = (name: string, image: string, extra: Record<string, unknown> = {}) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name },
      spec: { containers: [{ name: 'main', image, env: [{ name: 'WHO', value: 'exec' }], volumeMounts: [{ name: 'data', mountPath: '/data' }], ...extra }], volumes: [{ name: 'data', emptyDir: {} }] },
    });
    expect((await cluster.client.request('POST', PODS, pod('probed-pod', 'examples/probed:latest', { env: [{ name: 'READY_FILE', value: '/data/ready' }, { name: 'READY_AFTER', value: '0' }] }))).status).toBe(201);
    // hello exits at once: under restartPolicy Always the pod stays Running between restarts
    expect((await cluster.client.request('POST', PODS, pod('hello-pod', 'examples/hello:latest', { env: [{ name: 'WHO', value: 'exec' }, { name: 'ECHO_STDIN', value: '1' }] }))).status).toBe(201);
    for (const name of ['probed-pod', 'hello-pod']) await waitFor<Pod>(cluster.client, byName(name), (e) => e.object.status?.phase === 'Running', 30_000);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs the command as a one-shot instance of the container\'s component, in its env, and prints its output', async () => {
    const { stdout, stderr } = await kubectl(['exec', 'hello-pod', '--', 'hello', 'a', 'b']);
    expect(stdout).toBe('hello, exec!\nargv[0]=hello\nargv[1]=a\nargv[2]=b\n');
    expect(stderr).toContain('hello: a line on stderr');
  });

  it('shares the pod\'s volumes: the command sees what the container wrote', async () => {
    const { stdout } = await kubectl(['exec', 'probed-pod', '-c', 'main', '--', 'probed', 'check', '/data/ready']);
    expect(stdout).toBe('');
    const missing = await failure(['exec', 'probed-pod', '--', 'probed', 'check', '/data/absent']);
    expect(missing.stdout).toBe('probed: /data/absent is missing\n');
  });

  it('ends with the command\'s exit code', async () => {
    const error = await failure(['exec', 'probed-pod', '--', 'probed', 'exit', '3']);
    expect(error.code).toBe(3);
    expect(error.stderr).toContain('command terminated with exit code 3');
  });

  it('gives the command what -i sent on stdin, once the client closed it', async () => {
    const { stdout } = await kubectl(['exec', '-i', 'hello-pod', '--', 'hello'], 'from stdin\n');
    expect(stdout).toBe('hello, exec!\nargv[0]=hello\nfrom stdin\n');
  });

  it('answers an unknown container with an error', async () => {
    const error = await failure(['exec', 'hello-pod', '-c', 'nope', '--', 'hello']);
    expect(error.stderr).toContain('container nope is not valid for pod hello-pod');
  });
});
