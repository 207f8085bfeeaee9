// The WASI conformance guests (test/guests/{c,rust,as}/wasi-conformance) and what they expect to
// be given: arguments, environment, stdin, a read-write scratch directory and a read-only one.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Preopen } from '../../../runtime/pod-runtime.js';

export const CONFORMANCE_GUESTS = [
  { language: 'C (wasi-libc), preview 1 module', path: 'test/guests/c/wasi-conformance.wasm' },
  { language: 'C (wasi-libc), component through the preview 1 adapter', path: 'test/guests/c/wasi-conformance.component.wasm' },
  { language: 'Rust std (Debian rustc 1.63)', path: 'test/guests/rust/wasi-conformance.wasm' },
  { language: 'AssemblyScript 0.28 (wasi-shim)', path: 'test/guests/as/wasi-conformance.wasm' },
] as const;

export const conformanceBytes = (path: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../../${path}`, import.meta.url)));

export const CONFORMANCE_ARGS = ['alpha', 'beta gamma', '', 'δέλτα'];
export const CONFORMANCE_STDIN = 'line one\nline two\n';
/** The guests compare their stdin with $CONF_STDIN (a pod has no stdin: then it is left out). */
export const CONFORMANCE_ENV: Array<[string, string]> = [['CONF_ONE', '1'], ['CONF_TWO', 'two words'], ['CONF_EMPTY', ''], ['CONF_UNICODE', 'ünïcödé'], ['CONF_STDIN', CONFORMANCE_STDIN]];
export const CONFORMANCE_POD_ENV = CONFORMANCE_ENV.filter(([name]) => name !== 'CONF_STDIN');
export const RO_FILE = { name: 'ro.txt', content: 'read only test file\n' };

/** A fresh scratch directory and a read-only one with its file; `preopens` in the order the guests expect. */
export async function conformanceDirs(): Promise<{ scratch: string; ro: string; preopens: Preopen[]; remove(): Promise<void> }> {
  const base = await realpath(await mkdtemp(join(tmpdir(), 'skiff-conformance-')));
  const scratch = join(base, 'scratch');
  const ro = join(base, 'ro');
  await mkdir(scratch);
  await mkdir(ro);
  await writeFile(join(ro, RO_FILE.name), RO_FILE.content);
  return {
    scratch, ro,
    preopens: [{ hostPath: scratch, guestPath: '/scratch', readOnly: false }, { hostPath: ro, guestPath: '/ro', readOnly: true }],
    remove: () => rm(base, { recursive: true, force: true }),
  };
}

/** The checks that failed, from a guest's `ok`/`not ok` lines (or why there were none). */
export function failedChecks(stdout: string): string[] {
  const failed = stdout.split('\n').filter((line) => line.startsWith('not ok'));
  if (!/^# \d+ checks, \d+ failed$/m.test(stdout)) failed.push(`no summary line (the guest ended early): ${stdout.slice(-300)}`);
  return failed;
}
