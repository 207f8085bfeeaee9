// `skiff push FILE.wasm NAME:TAG`: uploads a component to the control plane's registry.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_DATA_DIR } from './cluster-commands.js';
import { readKubeconfig } from './kubeconfig-reader.js';
import { isOciReference } from '../control-plane/registry/oci/oci-reference.js';

function defaultKubeconfig(): string {
  const candidates = [process.env['KUBECONFIG']?.split(':')[0], join(DEFAULT_DATA_DIR, 'kubeconfig'), join(homedir(), '.kube', 'config')];
  return candidates.find((p): p is string => !!p && existsSync(p)) ?? join(DEFAULT_DATA_DIR, 'kubeconfig');
}

export async function pushComponent(kubeconfigPath: string, file: string, ref: string): Promise<{ ref: string; digest: string; size: number }> {
  const access = await readKubeconfig(kubeconfigPath);
  const bytes = await readFile(file);
  const url = new URL(`/registry/v1/push?ref=${encodeURIComponent(ref)}`, access.server);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      ...(access.caCert ? { ca: access.caCert } : {}),
      headers: {
        'content-type': 'application/wasm',
        'content-length': bytes.length,
        ...(access.token ? { authorization: `Bearer ${access.token}` } : {}),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // not JSON: report the raw text
        }
        if (res.statusCode === 201) resolve(body as { ref: string; digest: string; size: number });
        else reject(new Error(`push failed (HTTP ${res.statusCode}): ${String(body['error'] ?? body['message'] ?? text)}`));
      });
    });
    req.on('error', reject);
    req.end(bytes);
  });
}

interface PushFlags {
  kubeconfig?: string;
  username?: string;
  passwordStdin?: boolean;
  plainHttp?: boolean;
  registryCa?: string;
}

export function registerPushCommand(program: Command): void {
  program.command('push')
    .description('put a component into the cluster registry (NAME:TAG), or publish it to an OCI registry (HOST[:PORT]/REPO:TAG); pods then use it as their image')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (default: $KUBECONFIG, ./.skiff/kubeconfig, ~/.kube/config)')
    .option('--username <name>', 'OCI registry user (default: the Docker config\'s credentials for the registry, if any)')
    .option('--password-stdin', 'read the OCI registry password (or token) from standard input')
    .option('--plain-http', 'reach the OCI registry over plain HTTP (a lab registry)')
    .option('--registry-ca <file>', 'a CA certificate (PEM) to trust for the OCI registry')
    .argument('<file>', 'the component (.wasm)')
    .argument('<ref>', 'NAME:TAG, or HOST[:PORT]/REPO:TAG for an OCI registry')
    .action(async (file: string, ref: string, opts: PushFlags) => {
      if (!isOciReference(ref)) {
        const pushed = await pushComponent(opts.kubeconfig ?? defaultKubeconfig(), file, ref);
        process.stdout.write(`${pushed.ref}@${pushed.digest} (${pushed.size} bytes)\n`);
        return;
      }
      const { pushToOciRegistry } = await import('./oci-push.js');
      if (opts.passwordStdin && !opts.username) throw new Error('--password-stdin needs --username');
      const password = opts.passwordStdin ? (await readStdin()).replace(/\r?\n$/, '') : undefined;
      const pushed = await pushToOciRegistry(file, ref, {
        ...(opts.username && password !== undefined ? { credentials: { username: opts.username, password } } : {}),
        ...(opts.plainHttp ? { plainHttp: true } : {}),
        ...(opts.registryCa ? { caCerts: [await readFile(opts.registryCa, 'utf8')] } : {}),
      });
      process.stdout.write(`${pushed.ref}@${pushed.digest} (${pushed.size} bytes)\n`);
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
