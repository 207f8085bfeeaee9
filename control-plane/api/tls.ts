// A self-signed CA and a serving certificate signed by it, made on first start and reused afterwards.
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  caCert: string;
  cert: string;
  key: string;
}

const files = { caCert: 'ca.crt', caKey: 'ca.key', cert: 'server.crt', key: 'server.key' } as const;
const validityDays = 3650;

/** Reads the CA and serving cert from `dataDir`, creating them when missing or when `hosts` are not covered. */
export async function ensureTls(dataDir: string, options: { hosts: string[] }): Promise<TlsMaterial> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const hosts = [...new Set(['127.0.0.1', 'localhost', ...options.hosts])];
  const read = (name: string) => readFile(join(dataDir, name), 'utf8').catch(() => undefined);
  let [caCert, caKey, cert, key] = await Promise.all([read(files.caCert), read(files.caKey), read(files.cert), read(files.key)]);
  if (!caCert || !caKey) {
    const ca = await generate([{ name: 'commonName', value: 'skiff-ca' }], {
      keyType: 'ec', algorithm: 'sha256', notAfterDate: daysFromNow(validityDays),
      extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }],
    });
    caCert = ca.cert;
    caKey = ca.private;
    await writeFile(join(dataDir, files.caCert), caCert, { mode: 0o644 });
    await writeFile(join(dataDir, files.caKey), caKey, { mode: 0o600 });
    cert = undefined;
  }
  if (!cert || !key || !covers(cert, hosts)) {
    const leaf = await generate([{ name: 'commonName', value: 'skiff-apiserver' }], {
      keyType: 'ec', algorithm: 'sha256', notAfterDate: daysFromNow(validityDays), ca: { cert: caCert, key: caKey },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: hosts.map((h) => (isIP(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h })) },
      ],
    });
    cert = leaf.cert;
    key = leaf.private;
    await writeFile(join(dataDir, files.cert), cert, { mode: 0o644 });
    await writeFile(join(dataDir, files.key), key, { mode: 0o600 });
  }
  return { caCert, cert, key };
}

function covers(certPem: string, hosts: string[]): boolean {
  const x509 = new X509Certificate(certPem);
  if (Date.parse(x509.validTo) < Date.now()) return false;
  return hosts.every((h) => (isIP(h) ? x509.checkIP(h) : x509.checkHost(h)) !== undefined);
}

const daysFromNow = (days: number) => new Date(Date.now() + days * 24 * 3600 * 1000);

/**
 * A client certificate signed by the cluster CA in `dataDir` (what `skiff kubeconfig --user` hands
 * out): CN is the user, one O per group, extended key usage clientAuth; the API authenticates it
 * as the real server does.
 */
export async function issueClientCertificate(dataDir: string, options: { user: string; groups: string[]; days: number }): Promise<{ cert: string; key: string; caCert: string }> {
  const [caCert, caKey] = await Promise.all([readFile(join(dataDir, files.caCert), 'utf8'), readFile(join(dataDir, files.caKey), 'utf8')]);
  const leaf = await generate([{ name: 'commonName', value: options.user }, ...options.groups.map((g) => ({ name: 'organizationName', value: g }))], {
    keyType: 'ec', algorithm: 'sha256', notAfterDate: daysFromNow(options.days), ca: { cert: caCert, key: caKey },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  return { cert: leaf.cert, key: leaf.private, caCert };
}
