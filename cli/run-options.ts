// Parsers for `skiff run`'s options, spelled as `wasmtime run` spells them where it has them.
import { realpathSync, statSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { parseBytes, parseMillicores } from '../api/quantity.js';
import type { Preopen } from '../runtime/pod-runtime.js';

/**
 * `--env NAME=VALUE` sets it; `--env NAME` passes this process's value on, and leaves it unset in
 * the guest when it is unset here (as wasmtime does).
 */
export function collectEnv(value: string, previous: Array<[string, string]>): Array<[string, string]> {
  const eq = value.indexOf('=');
  const name = eq < 0 ? value : value.slice(0, eq);
  if (name === '') throw new InvalidArgumentError('must be NAME=VALUE or NAME');
  if (eq >= 0) return [...previous, [name, value.slice(eq + 1)]];
  const inherited = process.env[name];
  return inherited === undefined ? previous : [...previous, [name, inherited]];
}

/**
 * `--dir HOST` (seen at the same path), `--dir HOST::GUEST`, and `--dir HOST::GUEST::ro` for a
 * read-only mount (wasmtime has no read-only form: every change is refused with EPERM, as
 * wasmtime does for its read-only preopens).
 */
export function collectDir(value: string, previous: Preopen[]): Preopen[] {
  const [hostPath, guestPath, mode, ...rest] = value.split('::');
  if (!hostPath || guestPath === '' || rest.length > 0 || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
    throw new InvalidArgumentError('must be HOST, HOST::GUEST or HOST::GUEST::ro');
  }
  let canonical: string;
  try {
    canonical = realpathSync(hostPath); // the runtime takes canonical paths only
  } catch {
    throw new InvalidArgumentError(`${hostPath}: no such directory`);
  }
  if (!statSync(canonical).isDirectory()) throw new InvalidArgumentError(`${hostPath} is not a directory`);
  return [...previous, { hostPath: canonical, guestPath: guestPath ?? hostPath, readOnly: mode === 'ro' }];
}

export function parseFuel(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return BigInt(value);
}

export function parseMemory(value: string): number {
  try {
    return parseBytes(value);
  } catch {
    throw new InvalidArgumentError('must be a size like 64Mi, 1Gi or 1048576');
  }
}

export function parseCpu(value: string): number {
  try {
    return parseMillicores(value);
  } catch {
    throw new InvalidArgumentError('must be a CPU quantity like 500m or 1');
  }
}
