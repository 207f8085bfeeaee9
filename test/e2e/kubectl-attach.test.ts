// `kubectl exec -i` with stdin streamed as it is typed, `kubectl attach` to a running container's
// output and stdin, and `kubectl cp`'s clear refusal: the real kubectl, control plane, broker and agent.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/types/pod.js';
import { spawnKubectl } from '../support/spawned-kubectl.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const run = promisify(execFile);
const PODS = '/api/v1/namespaces/default/pods';
const byName = (name: string) => `${PODS}?fieldSelector=metadata.name%3D${name}`;

describe.skipIf(!hasTool('kubectl', 'kubectl attach e2e'))('kubectl exec -i, attach and cp', () => {
  let cluster: Cluster;
  const kubectl = (args: string[]) => spawnKubectl(cluster.cp.kubeconfigPath, args);
  const echoPod = (name: string, extra: Record<string, unknown>, echoTo = '1') => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { containers: [{ name: 'main', image: 'examples/hello:latest', env: [{ name: 'WHO', value: name }, { name: 'ECHO_STDIN', value: echoTo }], ...extra }] },
  });

  beforeAll(async () => {
    cluster = await startCluster();
    await cluster.cp.registry.push('examples/hello:latest', readFileSync('wasm-examples/hello/hello.wasm'));
    for (const [name, extra] of [['hello-pod', {}], ['echo-pod', { stdin: true }], ['once-pod', { stdin: true, stdinOnce: true }]] as const) {
      expect((await cluster.client.request('POST', PODS, echoPod(name, extra))).status).toBe(201);
    }
    // echoes what it reads to stderr
    expect((await cluster.client.request('POST', PODS, echoPod('err-pod', { stdin: true }, 'stderr'))).status).toBe(201);
    for (const name of ['hello-pod', 'echo-pod', 'once-pod', 'err-pod']) await waitFor<Pod>(cluster.client, byName(name), (e) => e.object.status?.phase === 'Running', 60_000);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('streams exec -i stdin to the command as it is typed, not only at EOF', async () => {
    const session = kubectl(['exec', '-i', 'hello-pod', '--', 'hello']);
    await session.printed('argv[0]=hello\n');
    session.type('first line\n');
    await session.printed('first line\n');
    expect(session.stdout()).not.toContain('second');
    session.type('second line\n');
    await session.printed('second line\n');
    session.child.stdin.end();
    expect(await session.exited).toBe(0);
    expect(session.stdout()).toBe('hello, hello-pod!\nargv[0]=hello\nfirst line\nsecond line\n');
    expect(session.stderr()).toContain('hello: a line on stderr\n'); // the stderr channel, apart from stdout
  }, 90_000);

  it('attaches to a running container: its stdin takes what is typed, and every attached client sees its output', async () => {
    const watcher = kubectl(['attach', 'echo-pod', '-c', 'main']);
    const typist = kubectl(['attach', '-i', 'echo-pod']);
    // both sessions are in once a line typed now reaches the watcher
    for (let i = 0; !watcher.stdout().includes('ping'); i++) {
      typist.type(`ping ${i}\n`);
      await Promise.race([watcher.printed(`ping ${i}\n`, 2_000).catch(() => undefined), watcher.exited]);
    }
    typist.type('pong\n');
    await typist.printed('pong\n');
    await watcher.printed('pong\n');
    // detaching leaves the container running (no stdinOnce): a new session still reaches it
    typist.child.kill('SIGINT');
    await typist.exited;
    const again = kubectl(['attach', '-i', 'echo-pod']);
    for (let i = 0; !watcher.stdout().includes('again'); i++) {
      again.type(`again ${i}\n`);
      await Promise.race([watcher.printed(`again ${i}\n`, 2_000).catch(() => undefined), watcher.exited]);
    }
    again.child.kill('SIGINT');
    watcher.child.kill('SIGINT');
    await Promise.all([again.exited, watcher.exited]);
  }, 90_000);

  it('attaches to the container\'s stderr as well, on its own channel (kubectl writes it to its stderr)', async () => {
    const watcher = kubectl(['attach', 'err-pod']);
    const typist = kubectl(['attach', '-i', 'err-pod']);
    for (let i = 0; i < 30 && !watcher.stderr().includes('to stderr'); i++) {
      typist.type(`to stderr ${i}\n`);
      await Promise.race([watcher.printed(`to stderr ${i}\n`, 2_000).catch(() => undefined), watcher.exited]);
    }
    expect(watcher.stderr()).toContain('to stderr');
    expect(watcher.stdout()).not.toContain('to stderr');
    typist.child.kill('SIGINT');
    watcher.child.kill('SIGINT');
    await Promise.all([typist.exited, watcher.exited]);
  }, 90_000);

  it('closes a stdinOnce container\'s stdin when the attached client ends its input: the run ends, and so does attach', async () => {
    const session = kubectl(['attach', '-i', 'once-pod']);
    for (let i = 0; !session.stdout().includes('only'); i++) {
      session.type(`only ${i}\n`);
      await Promise.race([session.printed(`only ${i}\n`, 2_000).catch(() => undefined), session.exited]);
    }
    session.child.stdin.end();
    expect(await session.exited).toBe(0);
    const pod = await waitFor<Pod>(cluster.client, byName('once-pod'), (e) => (e.object.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, 60_000);
    expect(pod.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode).toBe(0);
  }, 90_000);

  it('answers attach to a pod that does not exist with NotFound', async () => {
    const error = await run(TOOL_PATHS.kubectl, ['attach', 'nope'], { env: { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 60_000 })
      .then(() => undefined, (e: { stderr: string }) => e);
    expect(error?.stderr).toContain('pods "nope" not found');
  });

  it('refuses exec -it (a real terminal, as script(1) gives kubectl) with a message saying why', async () => {
    // (attach -it to a container without `tty: true` is turned down by kubectl itself: "Unable to use a TTY")
    const env = { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath };
    for (const command of [`${TOOL_PATHS.kubectl} exec -it hello-pod -- hello`]) {
      const out = await run('script', ['-qec', command, '/dev/null'], { env, timeout: 60_000 }).then((r) => r.stdout, (e: { stdout: string; stderr: string }) => `${e.stdout}${e.stderr}`);
      expect(out, command).toContain('a TTY is not supported: WebAssembly containers have no terminal');
    }
  }, 90_000);

  it('refuses kubectl cp with a message saying the container has no tar', async () => {
    const env = { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath };
    for (const args of [['cp', 'package.json', 'hello-pod:/tmp/x'], ['cp', 'hello-pod:/etc/hostname', '/tmp/skiff-cp-target']]) {
      const error = await run(TOOL_PATHS.kubectl, args, { env, timeout: 60_000 }).then(() => undefined, (e: { stderr: string; stdout: string }) => e);
      expect(`${error?.stdout}${error?.stderr}`, args.join(' ')).toContain('kubectl cp needs a tar binary in the container');
    }
  }, 90_000);
});
