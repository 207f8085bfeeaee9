// Resolves a guest path below a directory the way cap-std does for wasmtime: never above the base
// directory (`..` past it, an absolute path or an absolute symlink: not-permitted), symlinks
// followed component by component by us, never by the kernel. On Linux every directory on the way
// is opened (O_NOFOLLOW) and named by /proc/self/fd/N, so a path component renamed or swapped for
// a symlink while we walk (another container sharing the volume may) cannot redirect the
// operation: the final syscall acts on `<parent fd>/<name>` with no symlink left to follow. Where
// /proc/self/fd does not exist (not an agent platform) directories are named by path strings,
// checked the same way but without that guarantee.
import { closeSync, constants, existsSync, lstatSync, openSync, readlinkSync } from 'node:fs';
import { WasiError } from './wasi-errors.js';

const MAX_SYMLINK_HOPS = 40;
export const PINNED_PATHS = process.platform === 'linux' && existsSync('/proc/self/fd');
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** Host fds held by the guest, recorded so the runtime can close them if its worker dies. */
export interface FdTracker {
  /** False when the container holds too many (the fd is then closed again). */
  opened(fd: number): boolean;
  /**
   * The fd is being closed: false when it was no longer recorded (the run's end already closed
   * it, and the number may belong to someone else now): the caller must not close it then.
   */
  closed(fd: number): boolean | void;
}

/** A directory as the host names it: `/proc/self/fd/N` (pinned), or a canonical path. */
export interface DirRef {
  readonly hostPath: string;
}

export const pinnedPath = (fd: number): string => `/proc/self/fd/${fd}`;

/** Where a guest path led: the entry `name` in `parent` (`.`: the directory itself). */
export class Walked {
  constructor(
    readonly parent: DirRef,
    readonly name: string,
    /** The path ended in `/`: the kernel then insists on a directory. */
    readonly trailingSlash: boolean,
    private readonly owned: number[],
    private readonly files: FdTracker,
  ) {}

  /** The path the final syscall uses (no symlink left in it, but possibly in `name` itself). */
  get hostPath(): string {
    return `${this.parent.hostPath}/${this.name}${this.trailingSlash ? '/' : ''}`;
  }

  /** Closes the directories opened on the way. */
  release(): void {
    for (const fd of this.owned.splice(0)) {
      if (this.files.closed(fd) !== false) closeSync(fd);
    }
  }
}

/**
 * Resolves `path` below `base`. `follow`: a symlink in the last component is followed too (as it
 * always is before a trailing slash). The caller must `release()` the result.
 */
export function walk(base: DirRef, path: string, follow: boolean, files: FdTracker): Walked {
  if (path.includes('\0')) throw new WasiError('invalid');
  if (path === '') throw new WasiError('no-entry');
  if (path.startsWith('/')) throw new WasiError('not-permitted');
  const stack: DirRef[] = [base];
  const owned: number[] = [];
  let trailingSlash = path.endsWith('/');
  const pending = components(path);
  let hops = 0;
  try {
    while (pending.length > 0) {
      const name = pending.shift()!;
      const isLast = pending.length === 0;
      const top = stack.at(-1)!;
      if (name === '..') {
        if (stack.length === 1) throw new WasiError('not-permitted');
        stack.pop();
        if (owned.length > stack.length - 1) closeOwned(owned, files);
        if (isLast) return new Walked(stack.at(-1)!, '.', trailingSlash, owned, files);
        continue;
      }
      if (isLast && !follow && !trailingSlash) return new Walked(top, name, false, owned, files);
      const stat = lstatSync(`${top.hostPath}/${name}`, { throwIfNoEntry: false, bigint: true });
      if (!stat) {
        if (isLast) return new Walked(top, name, trailingSlash, owned, files); // to be created, or no-entry
        throw new WasiError('no-entry');
      }
      if (stat.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) throw new WasiError('loop');
        const target = readlinkSync(`${top.hostPath}/${name}`);
        if (target === '') throw new WasiError('no-entry');
        if (target.startsWith('/')) throw new WasiError('not-permitted');
        if (isLast && target.endsWith('/')) trailingSlash = true;
        const expanded = components(target);
        // `link -> .` names the directory holding it
        if (expanded.length === 0 && isLast) return new Walked(top, '.', trailingSlash, owned, files);
        pending.unshift(...expanded);
        continue;
      }
      if (isLast) return new Walked(top, name, trailingSlash, owned, files);
      if (!stat.isDirectory()) throw new WasiError('not-directory');
      stack.push(openDirectory(top, name, owned, files));
    }
    return new Walked(stack.at(-1)!, '.', trailingSlash, owned, files);
  } catch (error) {
    while (owned.length > 0) closeOwned(owned, files);
    throw error;
  }
}

/** Path components without empty ones and `.` (a path of only `.` and slashes names the base). */
const components = (path: string): string[] => path.split('/').filter((part) => part !== '' && part !== '.');

function closeOwned(owned: number[], files: FdTracker): void {
  const fd = owned.pop()!;
  if (files.closed(fd) !== false) closeSync(fd);
}

/** The next directory of the walk, opened without following a symlink swapped in after our lstat. */
function openDirectory(parent: DirRef, name: string, owned: number[], files: FdTracker): DirRef {
  const hostPath = `${parent.hostPath}/${name}`;
  if (!PINNED_PATHS) return { hostPath };
  let fd: number;
  try {
    fd = openSync(hostPath, DIR_FLAGS);
  } catch (error) {
    // ELOOP: it became a symlink after we looked; ENOTDIR: it became something else
    const code = (error as NodeJS.ErrnoException).code;
    throw new WasiError(code === 'ELOOP' ? 'not-permitted' : code === 'ENOENT' ? 'no-entry' : 'not-directory');
  }
  if (!files.opened(fd)) {
    closeSync(fd);
    throw new WasiError('insufficient-memory');
  }
  owned.push(fd);
  return { hostPath: pinnedPath(fd) };
}
