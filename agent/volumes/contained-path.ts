// Resolves a path below a trusted root on the real filesystem, as the kubelet's safe subPath code
// does: component by component, following symlinks (whoever made them: the host, or a guest in a
// shared volume) and re-checking after each one that the real path is still inside the root. A
// lexical check is not enough: `sub -> /etc` passes it. The result is a canonical path (every
// component a real directory, no symlink), which the runtime opens and pins (see
// runtime/wasi/filesystem-sandbox.ts), so a later swap of a component cannot move the mount.
import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

/** The path leaves its root, names something that is not a directory, or cannot be resolved. */
export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
}

const MAX_SYMLINKS = 40;

/** Is `path` equal to or below `root` (both absolute, normalised)? Unlike a prefix test, `/a/b..c` is inside `/a`. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

export interface ResolveOptions {
  /** Create missing directories (one at a time, never through a symlink); otherwise a missing one is an error. */
  create: boolean;
}

/**
 * The canonical host directory that `relativePath` names below `root`. `root` is trusted (an
 * agent-made directory or an admin's --allow-host-path prefix) and may itself contain symlinks;
 * `..` may not climb above it, and neither may any symlink met on the way.
 */
export function resolveContained(root: string, relativePath: string, options: ResolveOptions): string {
  if (isAbsolute(relativePath)) throw new UnsafePathError(`${relativePath} is absolute`);
  const realRoot = realpathOf(root, undefined);
  let current = realRoot;
  const pending = relativePath.split(/[\\/]/);
  let symlinks = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      if (current === realRoot) throw new UnsafePathError(`${relativePath} leaves ${root}`);
      current = join(current, '..');
      continue;
    }
    const candidate = join(current, name);
    let stat = lstatSync(candidate, { throwIfNoEntry: false });
    if (!stat && options.create) {
      try {
        mkdirSync(candidate, { mode: 0o755 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new UnsafePathError(`cannot create ${candidate}: ${(error as Error).message}`);
      }
      stat = lstatSync(candidate, { throwIfNoEntry: false }); // whatever is there now (it may have been raced in)
    }
    if (!stat) throw new UnsafePathError(`${candidate} does not exist`);
    if (stat.isSymbolicLink()) {
      if (++symlinks > MAX_SYMLINKS) throw new UnsafePathError(`${relativePath}: too many levels of symbolic links`);
      const target = realpathOf(candidate, relativePath);
      if (!isInside(realRoot, target)) throw new UnsafePathError(`${relativePath} resolves to ${target}, outside ${root}`);
      current = target;
      continue;
    }
    if (!stat.isDirectory()) throw new UnsafePathError(`${candidate} is not a directory`);
    current = candidate;
  }
  // every step was checked; this catches a component swapped while we walked
  const final = realpathOf(current, relativePath);
  if (final !== current || !isInside(realRoot, final)) throw new UnsafePathError(`${relativePath} changed while it was resolved (now ${final})`);
  if (!lstatSync(final).isDirectory()) throw new UnsafePathError(`${final} is not a directory`);
  return final;
}

function realpathOf(path: string, what: string | undefined): string {
  try {
    return realpathSync.native(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `${path} does not exist (or is a dangling symlink)` : code === 'ELOOP' ? `${path}: too many levels of symbolic links` : (error as Error).message;
    throw new UnsafePathError(what === undefined ? why : `${what}: ${why}`);
  }
}
