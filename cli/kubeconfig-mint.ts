// Makes the kubeconfig `skiff kubeconfig` prints: a client certificate from the data dir's CA for a
// user, or a TokenRequest for a ServiceAccount made with the admin kubeconfig.
import { renderKubeconfig } from '../control-plane/api/kubeconfig.js';
import { issueClientCertificate } from '../control-plane/api/tls.js';
import { KubeClient } from './kube-client.js';
import { readKubeconfig } from './kubeconfig-reader.js';

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export interface MintOptions {
  dataDir: string;
  adminKubeconfig: string;
  user?: string;
  group: string[];
  serviceAccount?: string;
  duration?: number;
}

export async function mintKubeconfig(o: MintOptions): Promise<string> {
  if (!!o.user === !!o.serviceAccount) throw new Error('give exactly one of --user NAME or --service-account NAMESPACE/NAME');
  const admin = await readKubeconfig(o.adminKubeconfig);
  if (!admin.caCert) throw new Error(`${o.adminKubeconfig} has no certificate authority`);
  if (o.user) {
    if (/[\u0000-\u001f]/.test(o.user) || o.user.length > 256 || o.group.some((g) => !g || g.length > 256 || /[\u0000-\u001f]/.test(g))) {
      throw new Error('user and group names must be 1..256 printable characters');
    }
    const hours = o.duration ?? 8760;
    if (!(hours > 0 && hours <= 10 * 8760)) throw new Error('--duration must be between 0 and 87600 hours for a certificate');
    const { cert, key } = await issueClientCertificate(o.dataDir, { user: o.user, groups: o.group, days: hours / 24 });
    return renderKubeconfig({ server: admin.server, caCert: admin.caCert, clientCert: cert, clientKey: key, userName: o.user });
  }
  if (o.group.length) throw new Error('--group is for --user; a ServiceAccount\'s groups are system:serviceaccounts[:NAMESPACE]');
  const [namespace, name, ...rest] = o.serviceAccount!.split('/');
  if (!namespace || !name || rest.length || !NAME.test(namespace) || !NAME.test(name)) throw new Error('--service-account must be NAMESPACE/NAME');
  const hours = o.duration ?? 48;
  if (!(hours >= 1 && hours <= 48)) throw new Error('--duration must be 1 to 48 hours for a ServiceAccount token');
  const client = new KubeClient(admin);
  try {
    const res = await client.request<{ status?: { token?: string }; message?: string }>('POST',
      `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: Math.round(hours * 3600) } });
    const token = res.body.status?.token;
    if (res.status !== 201 || !token) throw new Error(`token request for ${namespace}/${name} failed (${res.status}): ${res.body.message ?? res.text}`);
    return renderKubeconfig({ server: admin.server, caCert: admin.caCert, token, userName: `system:serviceaccount:${namespace}:${name}`, namespace });
  } finally {
    client.close();
  }
}
