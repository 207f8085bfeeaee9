// Where a PersistentVolume's directory is on this node: a local-path volume (a node path under
// LOCAL_PATH_PREFIX) lives in DATA_DIR/volumes/local-path/<dir>; any other hostPath/local path must
// be under an --allow-host-path prefix. And the clean-up of local-path directories whose volumes
// are gone (the control plane lists the ones to keep).
import { readdir, rm } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { LOCAL_PATH_PREFIX, localPathDir } from '../../api/local-path.js';

export const localPathRoot = (dataDir: string): string => join(dataDir, 'volumes', 'local-path');

/** The host directory of a volume's node path; a string error when this node may not mount it. */
export function volumeHostDir(path: string, dataDir: string, isAllowed: (path: string) => boolean): string | { error: string } {
  if (localPathDir(path) !== undefined) return join(localPathRoot(dataDir), normalize(path.slice(LOCAL_PATH_PREFIX.length + 1)));
  if (isAllowed(path)) return normalize(path);
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
