// A tiny HTTPS JSON client for tests: trusts the cluster CA from a kubeconfig and sends its bearer token.
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { parse } from 'yaml';

export interface ClusterClient {
  server: string;
  call(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: any }>;
  close(): void;
}

export async function clientFromKubeconfig(path: string): Promise<ClusterClient> {
  const config = parse(await readFile(path, 'utf8')) as {
    clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>;
    users: Array<{ user: { token: string } }>;
  };
  const cluster = config.clusters[0]!.cluster;
  return clientFor(cluster.server, Buffer.from(cluster['certificate-authority-data'], 'base64').toString(), config.users[0]!.user.token);
}

export function clientFor(server: string, caCert: string, token: string): ClusterClient {
  const agent = new Agent({ ca: caCert, keepAlive: true, maxSockets: 64 });
  const call: ClusterClient['call'] = (method, path, body, contentType = 'application/json') => new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(new URL(path, server), {
      method, agent,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(payload ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON: keep the text */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
  return { server, call, close: () => agent.destroy() };
}
