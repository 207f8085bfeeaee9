import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { writeKubeconfig } from '../../../control-plane/api/kubeconfig.js';
import { ensureTls } from '../../../control-plane/api/tls.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'skiff-tls-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('ensureTls', () => {
  it('creates a CA and a serving cert it signed, for loopback and the given hosts', async () => {
    const tls = await ensureTls(join(dir, 'pki'), { hosts: ['edge.local', '10.1.2.3'] });
    const ca = new X509Certificate(tls.caCert);
    const leaf = new X509Certificate(tls.cert);
    expect(ca.ca).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.checkHost('edge.local')).toBe('edge.local');
    expect(leaf.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect((await stat(join(dir, 'pki', 'server.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'pki', 'ca.key'))).mode & 0o777).toBe(0o600);
  });

  it('reuses the files on the next start, and reissues the leaf for a new host', async () => {
    const first = await ensureTls(join(dir, 'pki'), { hosts: ['edge.local'] });
    const again = await ensureTls(join(dir, 'pki'), { hosts: ['edge.local'] });
    expect(again).toEqual(first);
    const widened = await ensureTls(join(dir, 'pki'), { hosts: ['other.local'] });
    expect(widened.caCert).toBe(first.caCert);
    expect(widened.cert).not.toBe(first.cert);
  });
});

describe('writeKubeconfig', () => {
  it('writes the server, base64 CA and token with mode 0600', async () => {
    const path = join(dir, 'kube', 'config');
    await writeKubeconfig(path, { server: 'https://127.0.0.1:6443', caCert: 'PEM', token: 'tok', clusterName: 'edge' });
    const config = parse(await readFile(path, 'utf8'));
    expect(config['current-context']).toBe('edge');
    expect(config.clusters[0].cluster).toEqual({ server: 'https://127.0.0.1:6443', 'certificate-authority-data': Buffer.from('PEM').toString('base64') });
    expect(config.users[0].user.token).toBe('tok');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });
});
