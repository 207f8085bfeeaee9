// A preopen's root: opened once when the guest starts and pinned, so renaming or replacing any of
// its ancestors afterwards (a guest of another container sharing the volume may) cannot move it.
// Paths below it are resolved by fs-walk.ts.
import { closeSync, constants, openSync, readlinkSync, realpathSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { PreopenError } from '../pod-runtime.js';
import { PINNED_PATHS, pinnedPath, type FdTracker } from './fs-walk.js';

/** Checks that `hostDir` is an absolute, canonical path of a directory (no symlink anywhere in it). */
export function checkCanonicalDirectory(hostDir: string): void {
  if (!isAbsolute(hostDir)) throw new PreopenError(`preopen ${hostDir} is not an absolute path`);
  let real: string;
  try {
    real = realpathSync.native(hostDir);
  } catch (error) {
    throw new PreopenError(`preopen ${hostDir}: ${(error as Error).message}`);
  }
  if (real !== hostDir) throw new PreopenError(`preopen ${hostDir} is not a canonical path (it resolves to ${real})`);
}

export class SandboxRoot {
  /** The open directory (recorded in the tracker: closed when the guest ends, however it ends). */
  readonly fd: number;
  /** How the host names it: /proc/self/fd/N on Linux (pinned), else its canonical path. */
  readonly hostRoot: string;

  /** `hostDir` must be canonical (checkCanonicalDirectory); throws PreopenError otherwise. */
  constructor(hostDir: string, fds: FdTracker) {
    checkCanonicalDirectory(hostDir);
    const fd = openSync(hostDir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    let real: string;
    try {
      real = PINNED_PATHS ? readlinkSync(pinnedPath(fd)) : realpathSync.native(hostDir);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    // a component swapped for a symlink between the caller's check and the open lands elsewhere
    if (real !== hostDir || !fds.opened(fd)) {
      closeSync(fd);
      throw new PreopenError(real !== hostDir ? `preopen ${hostDir} moved while it was opened (now ${real})` : `preopen ${hostDir}: too many open files`);
    }
    this.fd = fd;
    this.hostRoot = PINNED_PATHS ? pinnedPath(fd) : hostDir;
  }
}
