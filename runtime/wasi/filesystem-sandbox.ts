// Resolves guest paths inside a preopened host directory: no absolute paths, no `..` above the
// preopen, and symlinks followed component by component so they can never point outside it.
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { WasiError } from './wasi-errors.js';

const MAX_SYMLINK_HOPS = 40;

export class SandboxRoot {
  readonly hostRoot: string;
  constructor(hostDir: string) {
    this.hostRoot = realpathSync(hostDir);
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
