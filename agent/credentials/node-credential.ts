// This node's own credential (DATA_DIR/node-credential, 0600): read at start, or obtained once by
// exchanging the bootstrap token (api/mqtt/node-credential.ts) and stored before first use.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { newRetryKey, RETRY_KEY_PATTERN } from '../../api/mqtt/node-credential.js';
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
/** The exchange's retry key, kept until the credential is stored (an agent restarted mid-exchange reuses it). */
export const retryKeyPath = (dataDir: string) => join(dataDir, 'node-credential.retry-key');

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
  // one key for every attempt: an attempt answered 5xx (or not at all) may have been written, and a 409
  // to the next one would be final; with the key the control plane answers the repeat instead
  const retryKey = await ensureRetryKey(options.dataDir);
  for (let attempt = 0; ; attempt++) {
    try {
      const credential = await exchangeBootstrapToken({ ...options, retryKey });
      await writeFile(`${path}.tmp`, JSON.stringify({ node: options.node, credential }), { mode: 0o600 });
      await rename(`${path}.tmp`, path);
      await rm(retryKeyPath(options.dataDir), { force: true });
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

async function ensureRetryKey(dataDir: string): Promise<string> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = retryKeyPath(dataDir);
  const kept = await readFile(path, 'utf8').then((text) => text.trim(), () => '');
  if (RETRY_KEY_PATTERN.test(kept)) return kept;
  const key = newRetryKey();
  await writeFile(`${path}.tmp`, key, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
  return key;
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
