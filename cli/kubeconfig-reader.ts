// Reads the current context of a kubeconfig: server URL, CA and bearer token.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

export interface ClusterAccess {
  server: string;
  caCert?: string;
  token?: string;
}

interface Named<T> { name: string; [key: string]: unknown; cluster?: T; user?: T; context?: T }

export async function readKubeconfig(path: string): Promise<ClusterAccess> {
  const doc = parse(await readFile(path, 'utf8')) as {
    'current-context'?: string;
    contexts?: Array<Named<{ cluster: string; user: string }>>;
    clusters?: Array<Named<{ server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string }>>;
    users?: Array<Named<{ token?: string }>>;
  };
  const context = doc.contexts?.find((c) => c.name === doc['current-context'])?.context ?? doc.contexts?.[0]?.context;
  if (!context) throw new Error(`${path}: no context`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster?.server) throw new Error(`${path}: cluster ${context.cluster} has no server`);
  const user = doc.users?.find((u) => u.name === context.user)?.user;
  const caData = cluster['certificate-authority-data'];
  const caFile = cluster['certificate-authority'];
  const caCert = caData ? Buffer.from(caData, 'base64').toString('utf8') : caFile ? await readFile(caFile, 'utf8') : undefined;
  return { server: cluster.server, ...(caCert ? { caCert } : {}), ...(user?.token ? { token: user.token } : {}) };
}
