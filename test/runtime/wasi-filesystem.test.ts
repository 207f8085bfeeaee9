import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFilesystemImports, type Descriptor, type OpenFileTracker } from '../../runtime/wasi/filesystem.js';
import type { GuestControl } from '../../runtime/wasi/guest-control.js';
import { WasiError } from '../../runtime/wasi/wasi-errors.js';
import { PreopenError } from '../../runtime/pod-runtime.js';

const control: GuestControl = { checkStop: () => undefined, sleepUntil: () => undefined };
const NO_FOLLOW = {};
const FOLLOW = { symlinkFollow: true };
const READ = { read: true };
const WRITE = { read: true, write: true };

function codeOf(operation: () => unknown): unknown {
  try {
    operation();
  } catch (error) {
    if (error instanceof WasiError) return error.payload;
    throw error;
  }
  return 'ok';
}

describe('wasi:filesystem on a preopened directory', () => {
  let base: string;
  let volume: string;
  let open: Set<number>;
  const tracker: OpenFileTracker = { opened: (fd) => (open.add(fd), true), closed: (fd) => void open.delete(fd) };
  const preopen = (readOnly = false): Descriptor => {
    const imports = createFilesystemImports([{ hostPath: volume, guestPath: '/data', readOnly }], control, tracker);
    const [[descriptor, guestPath]] = imports['wasi:filesystem/preopens'].getDirectories() as [[Descriptor, string]];
    expect(guestPath).toBe('/data');
    return descriptor;
  };

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'skiff-fs-'));
    volume = join(base, 'volume');
    mkdirSync(join(volume, 'sub'), { recursive: true });
    writeFileSync(join(base, 'secret.txt'), 'outside');
    writeFileSync(join(volume, 'sub', 'inside.txt'), 'inside');
    open = new Set();
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('writes through a stream and reads the bytes back', () => {
    const dir = preopen();
    const file = dir.openAt(NO_FOLLOW, 'new.txt', { create: true }, WRITE);
    file.writeViaStream(0n).blockingWriteAndFlush(new TextEncoder().encode('hello'));
    expect(file.read(100n, 0n)).toEqual([new TextEncoder().encode('hello'), false]);
    expect(readFileSync(join(volume, 'new.txt'), 'utf8')).toBe('hello');
    expect(dir.stat().type).toBe('directory');
    expect(dir.statAt(NO_FOLLOW, 'new.txt')).toMatchObject({ type: 'regular-file', size: 5n });
  });

  it('lists a directory', () => {
    const dir = preopen();
    const entries = dir.readDirectory();
    const names: string[] = [];
    for (let e = entries.readDirectoryEntry(); e; e = entries.readDirectoryEntry()) names.push(`${e.name}:${e.type}`);
    expect(names).toEqual(['sub:directory']);
  });

  it('refuses absolute paths and .. above the preopen', () => {
    const dir = preopen();
    expect(codeOf(() => dir.openAt(NO_FOLLOW, '/etc/passwd', {}, READ))).toBe('not-permitted');
    expect(codeOf(() => dir.openAt(NO_FOLLOW, '../secret.txt', {}, READ))).toBe('not-permitted');
    expect(codeOf(() => dir.openAt(NO_FOLLOW, 'sub/../../secret.txt', {}, READ))).toBe('not-permitted');
    expect(codeOf(() => dir.openAt(NO_FOLLOW, 'sub/../sub/inside.txt', {}, READ))).toBe('ok');
  });

  it('never follows a symlink out of the preopen', () => {
    symlinkSync(join(base, 'secret.txt'), join(volume, 'absolute-link'));
    symlinkSync('../secret.txt', join(volume, 'relative-link'));
    symlinkSync('../../secret.txt', join(volume, 'sub', 'deep-link'));
    symlinkSync('sub', join(volume, 'dir-link'));
    const dir = preopen();
    expect(codeOf(() => dir.openAt(FOLLOW, 'absolute-link', {}, READ))).toBe('not-permitted');
    expect(codeOf(() => dir.openAt(FOLLOW, 'relative-link', {}, READ))).toBe('not-permitted');
    expect(codeOf(() => dir.openAt(FOLLOW, 'sub/deep-link', {}, READ))).toBe('not-permitted');
    expect(codeOf(() => dir.statAt(NO_FOLLOW, 'relative-link/x'))).toBe('not-permitted');
    expect(codeOf(() => dir.openAt(NO_FOLLOW, 'relative-link', {}, READ))).toBe('loop');
    expect(dir.readlinkAt('relative-link')).toBe('../secret.txt');
    const inside = dir.openAt(FOLLOW, 'dir-link/inside.txt', {}, READ);
    expect(new TextDecoder().decode(inside.read(100n, 0n)[0])).toBe('inside');
  });

  it('reports a symlink loop', () => {
    symlinkSync('b', join(volume, 'a'));
    symlinkSync('a', join(volume, 'b'));
    expect(codeOf(() => preopen().openAt(FOLLOW, 'a', {}, READ))).toBe('loop');
  });

  it('refuses a symlink to an absolute path, and makes one pointing above that is never followed there (as wasmtime)', () => {
    const dir = preopen();
    expect(codeOf(() => dir.symlinkAt('/etc/passwd', 'out'))).toBe('not-permitted');
    expect(codeOf(() => dir.symlinkAt('../secret.txt', 'up'))).toBe('ok');
    expect(codeOf(() => dir.openAt(FOLLOW, 'up', {}, READ))).toBe('not-permitted');
    expect(codeOf(() => dir.symlinkAt('sub/inside.txt', 'ok'))).toBe('ok');
    expect(codeOf(() => dir.openAt(FOLLOW, 'ok', {}, READ))).toBe('ok');
  });

  it('answers the WASI error codes of the failed operation', () => {
    const dir = preopen();
    expect(codeOf(() => dir.statAt(NO_FOLLOW, 'missing'))).toBe('no-entry');
    expect(codeOf(() => dir.openAt(NO_FOLLOW, 'sub', {}, WRITE))).toBe('is-directory');
    expect(codeOf(() => dir.removeDirectoryAt('sub'))).toBe('not-empty');
    expect(codeOf(() => dir.openAt(NO_FOLLOW, 'sub/inside.txt', { create: true, exclusive: true }, WRITE))).toBe('exist');
    expect(codeOf(() => dir.openAt(NO_FOLLOW, 'sub/inside.txt', { directory: true }, READ))).toBe('not-directory');
    const file = dir.openAt(NO_FOLLOW, 'sub/inside.txt', {}, READ);
    expect(codeOf(() => file.write(new Uint8Array(1), 0n))).toBe('bad-descriptor');
    expect(codeOf(() => file.readDirectory())).toBe('not-directory');
  });

  it('refuses every change under a read-only preopen with not-permitted (as wasmtime)', () => {
    const dir = preopen(true);
    expect(codeOf(() => dir.openAt(NO_FOLLOW, 'new.txt', { create: true }, WRITE))).toBe('not-permitted');
    expect(codeOf(() => dir.openAt(NO_FOLLOW, 'sub/inside.txt', {}, WRITE))).toBe('not-permitted');
    expect(codeOf(() => dir.unlinkFileAt('sub/inside.txt'))).toBe('not-permitted');
    expect(codeOf(() => dir.createDirectoryAt('new'))).toBe('not-permitted');
    expect(codeOf(() => dir.openAt(NO_FOLLOW, 'sub/inside.txt', {}, READ))).toBe('ok');
    expect(existsSync(join(volume, 'new.txt'))).toBe(false);
  });

  it('closes the host file when the guest drops the descriptor', () => {
    const dir = preopen();
    const pinned = open.size; // the preopen itself, on Linux
    const file = dir.openAt(NO_FOLLOW, 'sub/inside.txt', {}, READ);
    expect(open.size).toBe(pinned + 1);
    const dispose = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');
    (file as unknown as Record<symbol, () => void>)[dispose]!();
    expect(open.size).toBe(pinned);
  });

  it('refuses a preopen that is not a canonical path', () => {
    symlinkSync(volume, join(base, 'alias'));
    expect(() => createFilesystemImports([{ hostPath: join(base, 'alias'), guestPath: '/data', readOnly: false }], control, tracker)).toThrow(PreopenError);
    expect(() => createFilesystemImports([{ hostPath: 'volume', guestPath: '/data', readOnly: false }], control, tracker)).toThrow(/not an absolute path/);
    expect(open.size).toBe(0);
  });

  it.runIf(process.platform === 'linux')('keeps the preopen it checked when its path is later swapped for a symlink', () => {
    const dir = preopen();
    expect(open.size).toBe(1);
    renameSync(volume, join(base, 'moved'));
    symlinkSync(base, volume); // the old path now leads to the directory holding secret.txt
    expect(codeOf(() => dir.openAt(NO_FOLLOW, 'secret.txt', {}, READ))).toBe('no-entry');
    const file = dir.openAt(NO_FOLLOW, 'sub/inside.txt', {}, READ);
    expect(new TextDecoder().decode(file.read(100n, 0n)[0])).toBe('inside');
    dir.createDirectoryAt('made');
    expect(existsSync(join(base, 'moved', 'made'))).toBe(true);
    expect(existsSync(join(base, 'made'))).toBe(false);
  });
});

describe.runIf(process.platform === 'linux')('path walks pinned by fd', () => {
  it('acts on the directory it walked even when a component is swapped for an outward symlink afterwards', async () => {
    const { walk } = await import('../../runtime/wasi/fs-walk.js');
    const base = mkdtempSync(join(tmpdir(), 'skiff-walk-'));
    try {
      mkdirSync(join(base, 'vol', 'a', 'b'), { recursive: true });
      mkdirSync(join(base, 'outside', 'b'), { recursive: true });
      const held = new Set<number>();
      const files = { opened: (fd: number) => (held.add(fd), true), closed: (fd: number) => void held.delete(fd) };
      const walked = walk({ hostPath: join(base, 'vol') }, 'a/b/new.txt', false, files);
      expect(held.size).toBe(2); // a and b, opened on the way
      // what a second container sharing the volume could do between the walk and the syscall
      renameSync(join(base, 'vol', 'a'), join(base, 'vol', 'moved'));
      symlinkSync(join(base, 'outside'), join(base, 'vol', 'a'));
      writeFileSync(walked.hostPath, 'written');
      walked.release();
      expect(held.size).toBe(0);
      expect(readFileSync(join(base, 'vol', 'moved', 'b', 'new.txt'), 'utf8')).toBe('written');
      expect(existsSync(join(base, 'outside', 'b', 'new.txt'))).toBe(false);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
