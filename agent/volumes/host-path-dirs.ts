// hostPath directories a node may mount: only below an --allow-host-path prefix, checked twice:
// lexically (cheap, says which prefix), then on the real filesystem (symlinks followed and
// re-checked, contained-path.ts), so `PREFIX/link -> /etc` is refused as `PREFIX/../etc` is.
import { mkdirSync } from 'node:fs';
import { isAbsolute, normalize, relative } from 'node:path';
import { isInside, resolveContained, UnsafePathError } from './contained-path.js';

/** The allowed prefix `path` is lexically equal to or below (after normalisation), if any. */
export function allowedPrefixOf(path: string, prefixes: readonly string[]): string | undefined {
  if (!isAbsolute(path)) return undefined;
  const p = normalize(path);
  return prefixes.map((prefix) => normalize(prefix)).find((prefix) => isInside(prefix, p));
}

export function isHostPathAllowed(path: string, prefixes: readonly string[]): boolean {
  return allowedPrefixOf(path, prefixes) !== undefined;
}

/**
 * The canonical directory of an allowed host path (created when missing and `create`); throws
 * UnsafePathError when it is not allowed or leaves its prefix through a symlink.
 */
export function allowedHostDir(path: string, prefixes: readonly string[], create: boolean): string {
  const prefix = allowedPrefixOf(path, prefixes);
  if (prefix === undefined) throw new UnsafePathError(`${path} is not under an --allow-host-path prefix of this node`);
  if (create) mkdirSync(prefix, { recursive: true }); // the prefix is the admin's word: trusted
  return resolveContained(prefix, relative(prefix, normalize(path)), { create });
}
