// Writes a kubeconfig (YAML, mode 0600) pointing kubectl at the server, trusting its CA, with a bearer token or a client certificate.
import { mkdir, writeFile, chmod } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  server: string;
  caCert: string;
  /** A bearer token, or a client certificate and key (PEM). */
  token?: string;
  clientCert?: string;
  clientKey?: string;
  clusterName?: string;
  userName?: string;
  namespace?: string;
}

export function renderKubeconfig(options: KubeconfigOptions): string {
  const cluster = options.clusterName ?? 'skiff';
  const user = options.userName ?? 'admin';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: options.server, 'certificate-authority-data': Buffer.from(options.caCert).toString('base64') } }],
    users: [{ name: user, user: options.clientCert && options.clientKey
      ? { 'client-certificate-data': Buffer.from(options.clientCert).toString('base64'), 'client-key-data': Buffer.from(options.clientKey).toString('base64') }
      : { token: options.token } }],
    contexts: [{ name: cluster, context: { cluster, user, namespace: options.namespace ?? 'default' } }],
    'current-context': cluster,
    preferences: {},
  });
}

export async function writeKubeconfig(path: string, options: KubeconfigOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, renderKubeconfig(options), { mode: 0o600 });
  await chmod(path, 0o600); // an existing file keeps its old mode on writeFile
}
