// wasi:filesystem over sync node:fs, limited to the spec's preopens (see filesystem-sandbox.ts).
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import type { GuestControl } from './guest-control.js';
import { SandboxRoot } from './filesystem-sandbox.js';
import { FileSink, FileSource } from './file-streams.js';
import { IoError, InputStream, OutputStream } from './io.js';
import { filesystemCodeForErrno, WasiError, withFilesystemErrors, type FilesystemErrorCode } from './wasi-errors.js';
import type { Datetime } from './clocks.js';

export interface PreopenDir {
  hostPath: string;
  guestPath: string;
  readOnly: boolean;
}

/** Told about every host file descriptor, so the runtime can close them if the worker dies. */
export interface OpenFileTracker {
  /** False when the container has too many files open (the fd is then closed again). */
  opened(fd: number): boolean;
  closed(fd: number): void;
}

interface DescriptorFlags { read?: boolean; write?: boolean; mutateDirectory?: boolean; [flag: string]: boolean | undefined }
interface PathFlags { symlinkFollow?: boolean }
interface OpenFlags { create?: boolean; directory?: boolean; exclusive?: boolean; truncate?: boolean }
type NewTimestamp = { tag: 'no-change' } | { tag: 'now' } | { tag: 'timestamp'; val: Datetime };
type DescriptorType = 'unknown' | 'block-device' | 'character-device' | 'directory' | 'fifo' | 'symbolic-link' | 'regular-file' | 'socket';

const DISPOSE: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');
const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_NOFOLLOW } = fs.constants;

interface Context {
  root: SandboxRoot;
  readOnly: boolean;
  control: GuestControl;
  files: OpenFileTracker;
}

export class Descriptor {
  #fd: number | undefined;
  constructor(
    private readonly ctx: Context,
    private readonly segments: string[],
    private readonly flags: DescriptorFlags,
    fd?: number,
  ) {
    this.#fd = fd;
  }

  get #hostPath(): string {
    return this.ctx.root.hostPathOf(this.segments);
  }
  #file(): number {
    if (this.#fd === undefined) throw new WasiError('is-directory');
    return this.#fd;
  }
  #directory(): void {
    if (this.#fd !== undefined) throw new WasiError('not-directory');
  }
  #need(flag: 'read' | 'write' | 'mutateDirectory'): void {
    if (this.ctx.readOnly && flag !== 'read') throw new WasiError('read-only');
    if (!this.flags[flag]) throw new WasiError(flag === 'mutateDirectory' ? 'not-permitted' : 'bad-descriptor');
  }
  #at(path: string, follow = false): string {
    return this.ctx.root.hostPathOf(this.ctx.root.resolve(this.segments, path, follow));
  }
  #fs<T>(operation: () => T): T {
    return withFilesystemErrors(operation);
  }

  readViaStream(offset: bigint): InputStream {
    return this.#fs(() => (this.#need('read'), new InputStream(new FileSource(this.#file(), Number(offset)), this.ctx.control)));
  }
  writeViaStream(offset: bigint): OutputStream {
    return this.#fs(() => (this.#need('write'), new OutputStream(new FileSink(this.#file(), Number(offset)), this.ctx.control)));
  }
  appendViaStream(): OutputStream {
    return this.#fs(() => (this.#need('write'), new OutputStream(new FileSink(this.#file(), 'append'), this.ctx.control)));
  }
  /** Advice is only a hint: accepted for files (as posix_fadvise would), refused for directories. */
  advise(_offset: bigint, _length: bigint, _advice: string): void {
    if (this.#fd === undefined) throw new WasiError('bad-descriptor');
  }
  syncData(): void {
    this.#fs(() => this.#fd !== undefined && fs.fdatasyncSync(this.#fd));
  }
  sync(): void {
    this.#fs(() => this.#fd !== undefined && fs.fsyncSync(this.#fd));
  }
  getFlags(): DescriptorFlags {
    return { ...this.flags };
  }
  getType(): DescriptorType {
    return this.#fs(() => typeOf(this.#stat()));
  }
  setSize(size: bigint): void {
    this.#fs(() => (this.#need('write'), fs.ftruncateSync(this.#file(), Number(size))));
  }
  setTimes(accessed: NewTimestamp, modified: NewTimestamp): void {
    this.#fs(() => {
      this.#need(this.#fd === undefined ? 'mutateDirectory' : 'write');
      const stat = this.#stat();
      fs.utimesSync(this.#hostPath, timeOf(accessed, stat.atimeNs), timeOf(modified, stat.mtimeNs));
    });
  }
  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    return this.#fs(() => {
      this.#need('read');
      const buffer = new Uint8Array(Math.min(Number(length), 1 << 20));
      const count = fs.readSync(this.#file(), buffer, 0, buffer.length, Number(offset));
      return [buffer.subarray(0, count), count === 0 && buffer.length > 0];
    });
  }
  write(buffer: Uint8Array, offset: bigint): bigint {
    return this.#fs(() => (this.#need('write'), BigInt(fs.writeSync(this.#file(), buffer, 0, buffer.length, Number(offset)))));
  }
  readDirectory(): DirectoryEntryStream {
    return this.#fs(() => {
      this.#directory();
      const entries = fs.readdirSync(this.#hostPath, { withFileTypes: true });
      return new DirectoryEntryStream(entries.map((e) => ({ name: e.name, type: typeOf(e) })));
    });
  }
  createDirectoryAt(path: string): void {
    this.#fs(() => (this.#need('mutateDirectory'), fs.mkdirSync(this.#at(path))));
  }
  stat() {
    return this.#fs(() => statOf(this.#stat()));
  }
  statAt(pathFlags: PathFlags, path: string) {
    return this.#fs(() => {
      const follow = pathFlags.symlinkFollow ?? false;
      const host = this.#at(path, follow);
      return statOf(follow ? fs.statSync(host, { bigint: true }) : fs.lstatSync(host, { bigint: true }));
    });
  }
  setTimesAt(pathFlags: PathFlags, path: string, accessed: NewTimestamp, modified: NewTimestamp): void {
    this.#fs(() => {
      this.#need('mutateDirectory');
      const follow = pathFlags.symlinkFollow ?? false;
      const host = this.#at(path, follow);
      const stat = follow ? fs.statSync(host, { bigint: true }) : fs.lstatSync(host, { bigint: true });
      (follow ? fs.utimesSync : fs.lutimesSync)(host, timeOf(accessed, stat.atimeNs), timeOf(modified, stat.mtimeNs));
    });
  }
  linkAt(oldPathFlags: PathFlags, oldPath: string, target: Descriptor, newPath: string): void {
    this.#fs(() => {
      this.#need('mutateDirectory');
      target.#need('mutateDirectory');
      fs.linkSync(this.#at(oldPath, oldPathFlags.symlinkFollow ?? false), target.#at(newPath));
    });
  }
  openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): Descriptor {
    return this.#fs(() => this.#openAt(pathFlags, path, openFlags, flags));
  }
  #openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): Descriptor {
    this.#directory();
    const wantsChange = openFlags.create || openFlags.truncate || flags.write || flags.mutateDirectory;
    if (wantsChange && this.ctx.readOnly) throw new WasiError('read-only');
    if (flags.mutateDirectory && !this.flags.mutateDirectory) throw new WasiError('not-permitted');
    if ((openFlags.create || openFlags.truncate) && !this.flags.mutateDirectory) throw new WasiError('not-permitted');
    const follow = pathFlags.symlinkFollow ?? false;
    const segments = this.ctx.root.resolve(this.segments, path, follow);
    const host = this.ctx.root.hostPathOf(segments);
    const existing = (follow ? fs.statSync : fs.lstatSync)(host, { throwIfNoEntry: false });
    if (existing?.isDirectory()) {
      if (openFlags.create && openFlags.exclusive) throw new WasiError('exist');
      if (flags.write || openFlags.truncate) throw new WasiError('is-directory');
      return new Descriptor(this.ctx, segments, { ...flags, mutateDirectory: flags.mutateDirectory && this.flags.mutateDirectory });
    }
    if (openFlags.directory) throw new WasiError(existing ? 'not-directory' : 'no-entry');
    const access = flags.write ? (flags.read ? O_RDWR : O_WRONLY) : O_RDONLY;
    const mode =
      access | (openFlags.create ? O_CREAT : 0) | (openFlags.exclusive ? O_EXCL : 0) | (openFlags.truncate ? O_TRUNC : 0) | (follow ? 0 : O_NOFOLLOW);
    const fd = fs.openSync(host, mode, 0o644);
    if (!this.ctx.files.opened(fd)) {
      fs.closeSync(fd);
      throw new WasiError('quota');
    }
    return new Descriptor(this.ctx, segments, { read: flags.read, write: flags.write }, fd);
  }
  readlinkAt(path: string): string {
    return this.#fs(() => fs.readlinkSync(this.#at(path)));
  }
  removeDirectoryAt(path: string): void {
    this.#fs(() => (this.#need('mutateDirectory'), fs.rmdirSync(this.#at(path))));
  }
  renameAt(oldPath: string, target: Descriptor, newPath: string): void {
    this.#fs(() => {
      this.#need('mutateDirectory');
      target.#need('mutateDirectory');
      fs.renameSync(this.#at(oldPath), target.#at(newPath));
    });
  }
  symlinkAt(targetPath: string, linkPath: string): void {
    this.#fs(() => {
      this.#need('mutateDirectory');
      const linkSegments = this.ctx.root.resolve(this.segments, linkPath, false);
      this.ctx.root.checkSymlinkTarget(linkSegments, targetPath);
      fs.symlinkSync(targetPath, this.ctx.root.hostPathOf(linkSegments));
    });
  }
  unlinkFileAt(path: string): void {
    this.#fs(() => (this.#need('mutateDirectory'), fs.unlinkSync(this.#at(path))));
  }
  isSameObject(other: Descriptor): boolean {
    return this.#fs(() => {
      const [a, b] = [this.#stat(), other.#stat()];
      return a.dev === b.dev && a.ino === b.ino;
    });
  }
  metadataHash() {
    return this.#fs(() => hashOf(this.#stat()));
  }
  metadataHashAt(pathFlags: PathFlags, path: string) {
    return this.#fs(() => {
      const host = this.#at(path, pathFlags.symlinkFollow ?? false);
      return hashOf(pathFlags.symlinkFollow ? fs.statSync(host, { bigint: true }) : fs.lstatSync(host, { bigint: true }));
    });
  }
  #stat(): fs.BigIntStats {
    return this.#fd === undefined ? fs.statSync(this.#hostPath, { bigint: true }) : fs.fstatSync(this.#fd, { bigint: true });
  }
  /** Closes the host file when the guest drops the descriptor. */
  [DISPOSE](): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    // forget it first: closing a number the runtime might close again (after a kill) could hit a reused fd
    this.ctx.files.closed(fd);
    fs.closeSync(fd);
  }
}

interface DirectoryEntry { name: string; type: DescriptorType }
export class DirectoryEntryStream {
  #next = 0;
  constructor(private readonly entries: DirectoryEntry[]) {}
  readDirectoryEntry(): DirectoryEntry | undefined {
    return this.entries[this.#next++];
  }
}

function typeOf(entry: fs.Dirent | fs.BigIntStats): DescriptorType {
  if (entry.isFile()) return 'regular-file';
  if (entry.isDirectory()) return 'directory';
  if (entry.isSymbolicLink()) return 'symbolic-link';
  if (entry.isFIFO()) return 'fifo';
  if (entry.isSocket()) return 'socket';
  if (entry.isBlockDevice()) return 'block-device';
  if (entry.isCharacterDevice()) return 'character-device';
  return 'unknown';
}

const datetimeOf = (ns: bigint): Datetime => ({ seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) });

function statOf(stat: fs.BigIntStats) {
  return {
    type: typeOf(stat),
    linkCount: stat.nlink,
    size: stat.size,
    dataAccessTimestamp: datetimeOf(stat.atimeNs),
    dataModificationTimestamp: datetimeOf(stat.mtimeNs),
    statusChangeTimestamp: datetimeOf(stat.ctimeNs),
  };
}

// node's utimes takes seconds as a number: sub-microsecond precision is lost
function timeOf(timestamp: NewTimestamp, currentNs: bigint): number {
  if (timestamp.tag === 'now') return Date.now() / 1000;
  const ns = timestamp.tag === 'timestamp' ? timestamp.val.seconds * 1_000_000_000n + BigInt(timestamp.val.nanoseconds) : currentNs;
  return Number(ns) / 1e9;
}

function hashOf(stat: fs.BigIntStats): { lower: bigint; upper: bigint } {
  const digest = createHash('sha256').update(`${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}`).digest();
  return { lower: digest.readBigUInt64LE(0), upper: digest.readBigUInt64LE(8) };
}

export function createFilesystemImports(preopens: PreopenDir[], control: GuestControl, files: OpenFileTracker) {
  const directories: Array<[Descriptor, string]> = preopens.map((p) => {
    const ctx: Context = { root: new SandboxRoot(p.hostPath, files), readOnly: p.readOnly, control, files };
    return [new Descriptor(ctx, [], { read: true, mutateDirectory: !p.readOnly }), p.guestPath];
  });
  return {
    'wasi:filesystem/preopens': { getDirectories: () => directories },
    'wasi:filesystem/types': {
      Descriptor,
      DirectoryEntryStream,
      filesystemErrorCode: (error: IoError): FilesystemErrorCode | undefined =>
        error instanceof IoError && error.errno ? filesystemCodeForErrno(error.errno) : undefined,
    },
  };
}
