// How many bytes the files under a directory hold, measured the cheap way the kubelet's eviction
// manager can afford every few seconds: an iterative walk (no recursion, symlinks not followed, so
// no loops and nothing outside), that stops as soon as the total passes the limit or a budget of
// entries is spent.
import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface DirUsage {
  /** Bytes of the regular files seen (all of them unless `partial`). */
  bytes: number;
  /** `bytes` passed the limit (the walk stopped there). */
  exceeded: boolean;
  /** The entry budget ran out before the walk ended (and the limit was not passed). */
  partial: boolean;
}

/** Default entry budget of one measurement (files and directories). */
export const MAX_ENTRIES = 100_000;

export async function measureDirUsage(dir: string, limitBytes: number, maxEntries = MAX_ENTRIES): Promise<DirUsage> {
  let bytes = 0;
  let entries = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    let children: Dirent[];
    try {
      children = await readdir(current, { withFileTypes: true });
    } catch {
      continue; // removed meanwhile, or not readable: nothing to count
    }
    for (const child of children) {
      if (++entries > maxEntries) return { bytes, exceeded: false, partial: true };
      const path = join(current, child.name);
      if (child.isDirectory()) {
        pending.push(path);
      } else if (child.isFile()) {
        bytes += await lstat(path).then((s) => s.size, () => 0);
        if (bytes > limitBytes) return { bytes, exceeded: true, partial: false };
      }
    }
  }
  return { bytes, exceeded: false, partial: false };
}
