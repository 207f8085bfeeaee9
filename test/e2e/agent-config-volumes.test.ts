import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/types/pod.js';
import { waitFor as poll } from '../mqtt/wait-for.js';
import { e2eBrokers, startCluster, waitFor, type Cluster } from './cluster-harness.js';

const NS = '/api/v1/namespaces/default';
const PODS = `${NS}/pods`;
const terminal = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
const byName = (name: string) => `${PODS}?fieldSelector=metadata.name%3D${name}`;

function pod(name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { restartPolicy: 'Never', ...spec } };
}

describe.each(e2eBrokers('config and volumes e2e'))('pod config and volumes on the agent (%s broker)', (broker) => {
  let cluster: Cluster;
  const logs = async (name: string, container?: string) =>
    (await cluster.client.request<string>('GET', `${PODS}/${name}/log${container ? `?container=${container}` : ''}`)).text;
  const run = async (name: string, spec: Record<string, unknown>) => {
    expect((await cluster.client.request('POST', PODS, pod(name, spec))).status).toBe(201);
    return waitFor<Pod>(cluster.client, byName(name), (e) => terminal(e.object), 30_000);
  };

  beforeAll(async () => {
    cluster = await startCluster({ broker });
    for (const name of ['hello', 'filewriter', 'sleep', 'fsutil']) {
      await cluster.cp.registry.push(`examples/${name}:latest`, readFileSync(`wasm-examples/${name}/${name}.wasm`));
    }
    expect((await cluster.client.request('POST', `${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { who: 'configmap', 'greeting.txt': 'hi from a configmap' } })).status).toBe(201);
    expect((await cluster.client.request('POST', `${NS}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, data: { password: Buffer.from('s3cr3t-value').toString('base64') } })).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('sets env from configMapKeyRef, secretKeyRef and envFrom; optional missing keys stay unset', async () => {
    const done = await run('env-from', {
      containers: [{
        name: 'main', image: 'examples/hello:latest', args: ['$(PASSWORD)', '$(cfg_who)', '$(NOPE)'],
        envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'cfg_' }],
        env: [
          { name: 'WHO', valueFrom: { configMapKeyRef: { name: 'settings', key: 'who' } } },
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
          { name: 'NOPE', valueFrom: { configMapKeyRef: { name: 'absent', key: 'x', optional: true } } },
        ],
      }],
    });
    expect(done.status?.phase).toBe('Succeeded');
    const text = await logs('env-from');
    expect(text).toContain('hello, configmap!');
    expect(text).toContain('s3cr3t-value');
    expect(text).toContain('$(NOPE)'); // unset, so not expanded
  });

  it('waits in CreateContainerConfigError for a missing ConfigMap', async () => {
    await cluster.client.request('POST', PODS, pod('missing-cm', {
      containers: [{ name: 'main', image: 'examples/hello:latest', env: [{ name: 'WHO', valueFrom: { configMapKeyRef: { name: 'later', key: 'who' } } }] }],
    }));
    await waitFor<Pod>(cluster.client, byName('missing-cm'), (e) =>
      e.object.status?.containerStatuses?.[0]?.state.waiting?.reason === 'CreateContainerConfigError');
    await cluster.client.request('POST', `${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'later' }, data: { who: 'late' } });
    const done = await waitFor<Pod>(cluster.client, byName('missing-cm'), (e) => terminal(e.object), 30_000);
    expect(done.status?.phase).toBe('Succeeded');
    expect(await logs('missing-cm')).toContain('hello, late!');
  });

  it('shares an emptyDir between an init container and the app container', async () => {
    const mounts = [{ name: 'scratch', mountPath: '/data' }];
    const done = await run('shared', {
      volumes: [{ name: 'scratch', emptyDir: {} }],
      initContainers: [{ name: 'first', image: 'examples/filewriter:latest', env: [{ name: 'MESSAGE', value: 'from-init' }], volumeMounts: mounts }],
      containers: [{ name: 'main', image: 'examples/filewriter:latest', env: [{ name: 'MESSAGE', value: 'from-app' }], volumeMounts: mounts }],
    });
    expect(done.status?.phase).toBe('Succeeded');
    expect(await logs('shared', 'main')).toMatch(/from-init\s+from-app/);
  });

  it('mounts configMap files on disk, secret files only in memory, both read-only', async () => {
    const done = await run('files', {
      volumes: [{ name: 'cfg', configMap: { name: 'settings' } }, { name: 'sec', secret: { secretName: 'creds' } }],
      containers: [{
        name: 'main', image: 'examples/filewriter:latest', env: [{ name: 'OUT', value: '/sec/password' }, { name: 'MESSAGE', value: 'x' }],
        volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }, { name: 'sec', mountPath: '/sec' }],
      }],
    });
    expect(done.status?.phase).toBe('Failed'); // appending to a read-only secret volume fails
    const uid = done.metadata.uid!;
    const cfgFile = join(cluster.dataDir, 'agents', 'node-1', 'pods', uid, 'volumes', 'cfg', 'greeting.txt');
    expect(readFileSync(cfgFile, 'utf8')).toBe('hi from a configmap');
    expect(existsSync(join(cluster.dataDir, 'agents', 'node-1', 'pods', uid, 'volumes', 'sec'))).toBe(false);
    const shm = readdirSync('/dev/shm').filter((d) => d.startsWith('skiff-node-1-'));
    expect(shm.some((d) => existsSync(join('/dev/shm', d, uid, 'sec', 'password')))).toBe(true);
    const persisted = readFileSync(join(cluster.dataDir, 'agents', 'node-1', 'desired-state.json'), 'utf8');
    expect(persisted).not.toContain(Buffer.from('s3cr3t-value').toString('base64'));
    expect(persisted).not.toContain('s3cr3t-value');
  });

  it('refuses a hostPath outside the allowed prefixes', async () => {
    await cluster.client.request('POST', PODS, pod('host', {
      volumes: [{ name: 'h', hostPath: { path: '/etc' } }],
      containers: [{ name: 'main', image: 'examples/hello:latest', volumeMounts: [{ name: 'h', mountPath: '/h' }] }],
    }));
    const waiting = await waitFor<Pod>(cluster.client, byName('host'), (e) =>
      e.object.status?.containerStatuses?.[0]?.state.waiting?.reason === 'CreateContainerConfigError');
    expect(waiting.status?.containerStatuses?.[0]?.state.waiting?.message).toMatch(/allow-host-path/);
  });

  it('mounts a subPath through a symlink a guest made inside the volume', async () => {
    const done = await run('subpath-alias', {
      volumes: [{ name: 'scratch', emptyDir: {} }],
      initContainers: [{
        name: 'plant', image: 'examples/fsutil:latest', volumeMounts: [{ name: 'scratch', mountPath: '/data' }],
        args: ['mkdir', '/data/real', ';', 'write', '/data/real/file', 'through the alias', ';', 'ln', '-s', 'real', '/data/alias'],
      }],
      containers: [{ name: 'main', image: 'examples/fsutil:latest', args: ['cat', '/in/file'], volumeMounts: [{ name: 'scratch', mountPath: '/in', subPath: 'alias' }] }],
    });
    expect(done.status?.phase).toBe('Succeeded');
    expect(await logs('subpath-alias', 'main')).toBe('through the alias\n');
  });

  it('refuses a subPath through a symlink a guest planted to lead out of the volume', async () => {
    // `d/e/up -> ../..` stays inside when it is made; moving `e` up makes it point above the volume
    const plant = ['mkdir', '/data/d', ';', 'mkdir', '/data/d/e', ';', 'ln', '-s', '../..', '/data/d/e/up', ';', 'mv', '/data/d/e', '/data/e'];
    await cluster.client.request('POST', PODS, pod('subpath-escape', {
      volumes: [{ name: 'scratch', emptyDir: {} }],
      initContainers: [{ name: 'plant', image: 'examples/fsutil:latest', args: plant, volumeMounts: [{ name: 'scratch', mountPath: '/data' }] }],
      containers: [{ name: 'main', image: 'examples/fsutil:latest', args: ['ls', '/out'], volumeMounts: [{ name: 'scratch', mountPath: '/out', subPath: 'e/up' }] }],
    }));
    const waiting = await waitFor<Pod>(cluster.client, byName('subpath-escape'), (e) =>
      e.object.status?.containerStatuses?.[0]?.state.waiting?.reason === 'CreateContainerConfigError', 30_000);
    expect(waiting.status?.initContainerStatuses?.[0]?.state.terminated?.exitCode).toBe(0);
    expect(waiting.status?.containerStatuses?.[0]?.state.waiting?.message).toMatch(/volumeMount scratch: subPath e\/up: e\/up resolves to .* outside/);
  });

  it('rewrites configMap and secret files of a running pod when their sources change', async () => {
    const created = await cluster.client.request<Pod>('POST', PODS, pod('live-config', {
      volumes: [{ name: 'cfg', configMap: { name: 'settings' } }, { name: 'sec', secret: { secretName: 'creds' } }],
      containers: [{ name: 'main', image: 'examples/sleep:latest', volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }, { name: 'sec', mountPath: '/sec' }] }],
    }));
    expect(created.status).toBe(201);
    const uid = created.body.metadata.uid!;
    await waitFor<Pod>(cluster.client, byName('live-config'), (e) => e.object.status?.phase === 'Running');
    const cfgFile = join(cluster.dataDir, 'agents', 'node-1', 'pods', uid, 'volumes', 'cfg', 'greeting.txt');
    const secretFile = () => readdirSync('/dev/shm').filter((d) => d.startsWith('skiff-node-1-'))
      .map((d) => join('/dev/shm', d, uid, 'sec', 'password')).find((f) => existsSync(f));
    expect(readFileSync(cfgFile, 'utf8')).toBe('hi from a configmap');
    expect(readFileSync(secretFile()!, 'utf8')).toBe('s3cr3t-value');

    const merge = { 'content-type': 'application/merge-patch+json' };
    await cluster.client.request('PATCH', `${NS}/configmaps/settings`, { data: { 'greeting.txt': 'changed', added: 'new key' } }, merge);
    await cluster.client.request('PATCH', `${NS}/secrets/creds`, { data: { password: Buffer.from('rotated').toString('base64') } }, merge);
    const added = join(cfgFile, '..', 'added');
    // the files of a volume are rewritten one after the other: wait for both
    await poll('configMap files rewritten', () => existsSync(cfgFile) && readFileSync(cfgFile, 'utf8') === 'changed'
      && existsSync(added) && readFileSync(added, 'utf8') === 'new key', { timeoutMs: 20_000, intervalMs: 50 });
    await poll('secret file rewritten', () => { const f = secretFile(); return f && readFileSync(f, 'utf8') === 'rotated'; }, { timeoutMs: 20_000, intervalMs: 50 });
    const running = (await cluster.client.request<Pod>('GET', `${PODS}/live-config`)).body;
    expect(running.status?.phase).toBe('Running'); // updated in place: not restarted
    expect(running.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  });

  it('gives a pod created with spec.nodeName its address before it starts (status.podIP, fieldRef)', async () => {
    const done = await run('static-ip', {
      nodeName: 'node-1',
      containers: [{ name: 'main', image: 'examples/hello:latest', args: ['$(POD_IP)'], env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] }],
    });
    expect(done.status?.phase).toBe('Succeeded');
    expect(done.status?.podIP).toMatch(/^10\.42\.\d+\.\d+$/);
    expect(await logs('static-ip')).toContain(done.status!.podIP!);
  });
});
