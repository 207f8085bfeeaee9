// Where an agent's pod volumes live (pods/pod-volumes.ts): the data dir, the tmpfs directory for
// Secrets, projected tokens and medium Memory emptyDirs, the hostPath allow-list, and where the pods'
// ServiceAccount tokens come from.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import type { ServiceAccountTokenSource } from './credentials/token-request-client.js';
import type { VolumeHostOptions } from './pods/pod-volumes.js';

/** The agent's options these depend on (AgentOptions' fields of the same names). */
interface VolumeHostSettings {
  node: string;
  memoryDir?: string | undefined;
  allowedHostPaths?: string[] | undefined;
  sizeLimitCheckIntervalMs?: number | undefined;
  serviceAccountTokens?: ServiceAccountTokenSource | undefined;
  clock: Clock;
  logger: Logger;
}

/** Secrets must stay in RAM: /dev/shm is tmpfs on Linux. Elsewhere they fall back to the data dir (documented). */
function defaultMemoryDir(node: string, dataDir: string): string {
  const id = createHash('sha256').update(dataDir).digest('hex').slice(0, 8); // two agents of one name never share it
  return existsSync('/dev/shm') ? join('/dev/shm', `skiff-${node}-${id}`) : join(dataDir, 'memory');
}

export const memoryDir = (options: VolumeHostSettings, dataDir: string): string => options.memoryDir ?? defaultMemoryDir(options.node, dataDir);

export function volumeHost(options: VolumeHostSettings, dataDir: string): VolumeHostOptions {
  const tokens = options.serviceAccountTokens;
  return {
    dataDir,
    memoryDir: memoryDir(options, dataDir),
    allowedHostPaths: options.allowedHostPaths ?? [],
    ...(options.sizeLimitCheckIntervalMs ? { sizeLimitCheckIntervalMs: options.sizeLimitCheckIntervalMs } : {}),
    ...(tokens ? {
      serviceAccountTokens: {
        source: tokens, clock: options.clock,
        onError: (pod, error) => options.logger.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, err: error.message }, 'ServiceAccount token request failed; will retry'),
      },
    } : {}),
  };
}
