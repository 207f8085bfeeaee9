// Where a PersistentVolume's directory is on this node: a local-path volume (a node path under
// LOCAL_PATH_PREFIX) lives in DATA_DIR/volumes/local-path/<dir>; any other hostPath/local path must
// be under an --allow-host-path prefix. And the clean-up of local-path directories whose volumes
// are gone (the control plane lists the ones to keep).
import { mkdirSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCAL_PATH_PREFIX, localPathDir } from '../../api/local-path.js';
import { resolveContained, UnsafePathError } from './contained-path.js';
import { allowedHostDir, isHostPathAllowed } from './host-path-dirs.js';

export const localPathRoot = (dataDir: string): string => join(dataDir, 'volumes', 'local-path');

/**
 * The canonical host directory of a volume's node path (created when missing; symlinks followed
 * only while they stay inside the local-path root or the allowed prefix); a string error when
 * this node may not mount it.
 */
export function volumeHostDir(path: string, dataDir: string, allowedHostPaths: readonly string[]): string | { error: string } {
  try {
    if (localPathDir(path) !== undefined) {
      const root = localPathRoot(dataDir);
      mkdirSync(root, { recursive: true }); // the agent's own directory
      return resolveContained(root, path.slice(LOCAL_PATH_PREFIX.length + 1), { create: true });
    }
    if (isHostPathAllowed(path, allowedHostPaths)) return allowedHostDir(path, allowedHostPaths, true);
  } catch (error) {
    if (error instanceof UnsafePathError) return { error: `path ${path}: ${error.message}` };
    throw error;
  }
  return { error: `path ${path} is neither under ${LOCAL_PATH_PREFIX} nor under an --allow-host-path prefix of this node` };
}

/**
 * Removes the local-path directories not listed (`keep`: node paths) and not in use by a pod here.
 * Returns the names of the directories removed.
 */
export async function removeUnlistedLocalVolumes(dataDir: string, keep: readonly string[], inUse: ReadonlySet<string>): Promise<string[]> {
  const kept = new Set(keep.map(localPathDir).filter((d): d is string => d !== undefined));
  const root = localPathRoot(dataDir);
  const entries = await readdir(root).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of entries) {
    if (kept.has(name) || inUse.has(name)) continue;
    await rm(join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
