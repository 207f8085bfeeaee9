// `skiff control-plane` as a process (from dist): kill -9 loses no acknowledged write, on SQLite and on etcd.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../control-plane/store/open-store.js';
import { hasTool } from '../../support/tools.js';
import { startEtcdServer, type EtcdServer } from '../../../bench/support/etcd-server.js';
import { clientFromKubeconfig, type ClusterClient } from '../support/https-client.js';

const built = existsSync('dist/cli/main.js');
if (!built) console.warn('skipping control-plane process e2e: dist/ is not built (npm run build)');

interface Running { child: ChildProcess; output: string }

async function startControlPlaneProcess(dataDir: string, extra: string[] = []): Promise<Running> {
  const child = spawn(process.execPath, ['bin/skiff.js', 'control-plane', '--data-dir', dataDir, '--api-port', '0', '--mqtt-port', '0', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const running: Running = { child, output: '' };
  child.stderr!.on('data', (c: Buffer) => (running.output += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      running.output += c.toString();
      if (running.output.includes('control plane is ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`control-plane exited with ${code}:\n${running.output}`)));
  });
  return running;
}

async function kill9(running: Running): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return;
  const exited = new Promise((r) => running.child.once('exit', r));
  running.child.kill('SIGKILL');
  await exited;
}

const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: name } });

/** Writes from `clients` concurrent loops until killed; returns the names whose create was acknowledged (201). */
async function writeUntilKilled(client: ClusterClient, running: Running, killAfterAcks: number, clients = 16): Promise<string[]> {
  const acked: string[] = [];
  let next = 0;
  let killing: Promise<void> | undefined;
  const loop = async () => {
    while (!killing) {
      const name = `cm-${next++}`;
      try {
        const res = await client.call('POST', '/api/v1/namespaces/default/configmaps', configMap(name));
        if (res.status === 201) acked.push(name);
      } catch {
        return; // connection reset by the kill: this write was not acknowledged
      }
      if (acked.length >= killAfterAcks && !killing) killing = kill9(running);
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  await killing;
  return acked;
}

async function listNames(client: ClusterClient): Promise<Set<string>> {
  const res = await client.call('GET', '/api/v1/namespaces/default/configmaps');
  return new Set((res.body.items as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name));
}

describe.skipIf(!built)('control-plane process crash (kill -9)', () => {
  let dataDir: string;
  let running: Running | undefined;
  beforeAll(async () => { dataDir = await mkdtemp(join(tmpdir(), 'skiff-crash-')); });
  afterAll(async () => {
    if (running) await kill9(running);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write on SQLite', async () => {
    running = await startControlPlaneProcess(dataDir);
    let client = await clientFromKubeconfig(join(dataDir, 'kubeconfig'));
    const acked = await writeUntilKilled(client, running, 150);
    client.close();
    expect(acked.length).toBeGreaterThanOrEqual(150);
    running = await startControlPlaneProcess(dataDir);
    client = await clientFromKubeconfig(join(dataDir, 'kubeconfig'));
    const stored = await listNames(client);
    client.close();
    expect(acked.filter((n) => !stored.has(n))).toEqual([]);
  }, 120_000);
});

describe.skipIf(!built || !hasTool('etcd', 'control-plane on etcd e2e'))('control-plane process on etcd (--store etcd://)', () => {
  let etcd: EtcdServer;
  let dataDir: string;
  let running: Running | undefined;
  beforeAll(async () => {
    etcd = await startEtcdServer();
    dataDir = await mkdtemp(join(tmpdir(), 'skiff-crash-etcd-'));
  }, 30_000);
  afterAll(async () => {
    if (running) await kill9(running);
    await etcd?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves from etcd and keeps every acknowledged write across kill -9', async () => {
    const storeUrl = `etcd://${new URL(etcd.endpoint).host}`;
    running = await startControlPlaneProcess(dataDir, ['--store', storeUrl]);
    let client = await clientFromKubeconfig(join(dataDir, 'kubeconfig'));
    const acked = await writeUntilKilled(client, running, 60);
    client.close();
    running = await startControlPlaneProcess(dataDir, ['--store', storeUrl]);
    client = await clientFromKubeconfig(join(dataDir, 'kubeconfig'));
    const stored = await listNames(client);
    const secret = await client.call('POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 's' }, stringData: { k: 'etcd-secret-value' } });
    expect(secret.status).toBe(201);
    client.close();
    expect(acked.filter((n) => !stored.has(n))).toEqual([]);
    // The Secret reached etcd sealed.
    const raw = await openStore(storeUrl, dataDir, { cache: false });
    const value = (await raw.get('/registry/core/secrets/default/s'))?.value ?? '';
    await raw.close();
    expect(value.startsWith('k8s:enc:aesgcm:v1:')).toBe(true);
    expect(value).not.toContain(Buffer.from('etcd-secret-value').toString('base64'));
  }, 120_000);
});
