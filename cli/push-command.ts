// `skiff push FILE.wasm NAME:TAG`: uploads a component to the control plane's registry.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_DATA_DIR } from './cluster-commands.js';
import { readKubeconfig } from './kubeconfig-reader.js';

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

export function registerPushCommand(program: Command): void {
  program.command('push')
    .description('put a component into the cluster registry; pods then use it as image NAME:TAG')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (default: $KUBECONFIG, ./.skiff/kubeconfig, ~/.kube/config)')
    .argument('<file>', 'the component (.wasm)')
    .argument('<ref>', 'NAME:TAG')
    .action(async (file: string, ref: string, opts: { kubeconfig?: string }) => {
      const pushed = await pushComponent(opts.kubeconfig ?? defaultKubeconfig(), file, ref);
      process.stdout.write(`${pushed.ref}@${pushed.digest} (${pushed.size} bytes)\n`);
    });
}
