// Resolves guest paths inside a preopened host directory: no absolute paths, no `..` above the
// preopen, and symlinks followed component by component so they can never point outside it.
// The preopen itself is opened once and pinned: on Linux every path is taken relative to
// /proc/self/fd/N, the directory that was checked, so renaming or replacing any of its ancestors
// afterwards (a guest of another container sharing the volume may) cannot move it.
import { closeSync, constants, existsSync, lstatSync, openSync, readlinkSync, realpathSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { PreopenError } from '../pod-runtime.js';
import { WasiError } from './wasi-errors.js';

const MAX_SYMLINK_HOPS = 40;
const PINNED_PATHS = process.platform === 'linux' && existsSync('/proc/self/fd');

/** Where the root's fd is recorded, so it is closed when the guest ends however it ends. */
export interface RootFdTracker {
  opened(fd: number): boolean;
  closed(fd: number): void;
}

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
  /** The preopen's host path: /proc/self/fd/N on Linux (pinned), else its canonical path. */
  readonly hostRoot: string;
  #fd: number | undefined;

  /** `hostDir` must be canonical (checkCanonicalDirectory); throws PreopenError otherwise. */
  constructor(hostDir: string, private readonly fds: RootFdTracker) {
    checkCanonicalDirectory(hostDir);
    if (!PINNED_PATHS) {
      this.hostRoot = hostDir;
      return;
    }
    const fd = openSync(hostDir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    const pinned = `/proc/self/fd/${fd}`;
    let real: string;
    try {
      real = readlinkSync(pinned);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    // a component swapped for a symlink between the caller's check and the open lands elsewhere
    if (real !== hostDir || !fds.opened(fd)) {
      closeSync(fd);
      throw new PreopenError(real !== hostDir ? `preopen ${hostDir} moved while it was opened (now ${real})` : `preopen ${hostDir}: too many open files`);
    }
    this.#fd = fd;
    this.hostRoot = pinned;
  }

  /** Closes the pinned directory (the runtime also closes it if the guest's worker dies). */
  close(): void {
    if (this.#fd === undefined) return;
    this.fds.closed(this.#fd);
    closeSync(this.#fd);
    this.#fd = undefined;
  }

  hostPathOf(segments: readonly string[]): string {
    return join(this.hostRoot, ...segments);
  }

  /**
   * Segments (relative to the root) that `path`, relative to `base`, names. Symlinks in every
   * component but the last are followed; the last only when `followLast`.
   */
  resolve(base: readonly string[], path: string, followLast: boolean): string[] {
    if (path === '') throw new WasiError('no-entry');
    if (path.startsWith('/')) throw new WasiError('not-permitted');
    const resolved = [...base];
    const pending = path.split('/');
    let hops = 0;
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (name === '' || name === '.') continue;
      if (name === '..') {
        if (resolved.length === 0) throw new WasiError('not-permitted');
        resolved.pop();
        continue;
      }
      resolved.push(name);
      const isLast = pending.every((rest) => rest === '' || rest === '.');
      if (isLast && !followLast) break;
      const stat = lstatSync(this.hostPathOf(resolved), { throwIfNoEntry: false });
      if (!stat) {
        if (isLast) break; // creating it is the caller's business
        throw new WasiError('no-entry');
      }
      if (stat.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) throw new WasiError('loop');
        const target = readlinkSync(this.hostPathOf(resolved));
        if (target.startsWith('/')) throw new WasiError('not-permitted');
        resolved.pop();
        pending.unshift(...target.split('/'));
      } else if (!isLast && !stat.isDirectory()) {
        throw new WasiError('not-directory');
      }
    }
    return resolved;
  }

  /** Checks that a symlink target written at `linkSegments` stays inside the root. */
  checkSymlinkTarget(linkSegments: readonly string[], target: string): void {
    if (target.startsWith('/')) throw new WasiError('not-permitted');
    let depth = linkSegments.length - 1;
    for (const name of target.split('/')) {
      if (name === '..') depth--;
      else if (name !== '' && name !== '.') depth++;
      if (depth < 0) throw new WasiError('not-permitted');
    }
  }
}
