// This node's own credential (DATA_DIR/node-credential, 0600): read at start, or obtained once by
// exchanging the bootstrap token (api/mqtt/node-credential.ts) and stored before first use.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { exchangeBootstrapToken } from './credential-exchange.js';

export interface NodeCredentialOptions {
  server: string;
  node: string;
  bootstrapToken: string;
  /** PEM CA of an mqtts:// broker. */
  ca?: string | undefined;
  dataDir: string;
  logger: Logger;
  /** Retry delays while the control plane cannot be reached or refuses. */
  retryMs?: { initial: number; max: number };
}

/** The stored credential belongs to another node name: the data dir was reused for a renamed node. */
export class CredentialNodeMismatchError extends Error {
  override readonly name = 'CredentialNodeMismatchError';
}

export const credentialPath = (dataDir: string) => join(dataDir, 'node-credential');

/** Returns the node's credential, exchanging the bootstrap token (retrying with back-off) if there is none yet. */
export async function ensureNodeCredential(options: NodeCredentialOptions): Promise<string> {
  const path = credentialPath(options.dataDir);
  const stored = await readCredential(path);
  if (stored) {
    if (stored.node !== options.node) {
      throw new CredentialNodeMismatchError(`${path} holds the credential of node ${stored.node}, not ${options.node}`);
    }
    return stored.credential;
  }
  const retry = options.retryMs ?? { initial: 500, max: 30_000 };
  for (let attempt = 0; ; attempt++) {
    try {
      const credential = await exchangeBootstrapToken(options);
      await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
      await writeFile(`${path}.tmp`, JSON.stringify({ node: options.node, credential }), { mode: 0o600 });
      await rename(`${path}.tmp`, path);
      options.logger.info('obtained this node\'s own credential');
      return credential;
    } catch (error) {
      const delay = Math.min(retry.max, retry.initial * 2 ** Math.min(attempt, 20));
      options.logger.warn({ err: (error as Error).message, retryInMs: delay }, 'credential exchange failed');
      if ((error as { permanent?: boolean }).permanent) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random() / 2)));
    }
  }
}

async function readCredential(path: string): Promise<{ node: string; credential: string } | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { node?: unknown; credential?: unknown };
    if (typeof parsed.node === 'string' && typeof parsed.credential === 'string') return { node: parsed.node, credential: parsed.credential };
    return undefined;
  } catch {
    return undefined;
  }
}
