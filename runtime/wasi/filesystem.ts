// wasi:filesystem over sync node:fs, with wasmtime's semantics: a descriptor is an open host fd (a
// directory too, so renaming it does not move it), paths are resolved below their directory by
// fs-walk.ts (never above it, never through a symlink the kernel follows), a read-only preopen
// refuses every change with not-permitted, and host errors become the error codes wasmtime gives.
import * as fs from 'node:fs';
import { FileSink, FileSource } from './file-streams.js';
import { DirectoryEntryStream, hashOf, isUnknown, lstatType, safeOffset, statOf, timeOf, typeOf, utf8, type DescriptorType, type NewTimestamp } from './fs-metadata.js';
import { PINNED_PATHS, pinnedPath, walk, type DirRef, type FdTracker } from './fs-walk.js';
import type { GuestControl } from './guest-control.js';
import { IoError, InputStream, OutputStream } from './io.js';
import { SandboxRoot } from './filesystem-sandbox.js';
import { filesystemCodeForErrno, WasiError, withFilesystemErrors, type FilesystemErrorCode } from './wasi-errors.js';

export interface PreopenDir {
  hostPath: string;
  guestPath: string;
  readOnly: boolean;
}

/** Told about every host file descriptor, so the runtime can close them if the worker dies. */
export type OpenFileTracker = FdTracker;

interface DescriptorFlags { read?: boolean; write?: boolean; mutateDirectory?: boolean; [flag: string]: boolean | undefined }
interface PathFlags { symlinkFollow?: boolean }
interface OpenFlags { create?: boolean; directory?: boolean; exclusive?: boolean; truncate?: boolean }

const DISPOSE: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');
const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_NOFOLLOW } = fs.constants;

/** What every descriptor of one preopen shares: its permissions (wasmtime's FsPerms) and the guest's hooks. */
interface Context {
  readOnly: boolean;
  control: GuestControl;
  files: FdTracker;
}

/** An open directory or file. `fd` is ours to close unless it is a preopen's pinned root. */
export class Descriptor {
  #fd: number | undefined;

  constructor(
    private readonly ctx: Context,
    private readonly kind: 'directory' | 'file',
    fd: number,
    /** How it was opened (reported by get-flags; a file opened without write is readable). */
    private readonly mode: { read: boolean; write: boolean },
    /** A directory named by a path string (no pinned fd on this platform, or the preopen root). */
    private readonly dirPath?: string,
    private readonly owned = true,
  ) {
    this.#fd = fd;
  }

  get #handle(): number {
    if (this.#fd === undefined) throw new WasiError('bad-descriptor');
    return this.#fd;
  }
  /** The directory itself, for paths below it. */
  #dir(): DirRef {
    if (this.kind !== 'directory') throw new WasiError('not-directory');
    return { hostPath: this.dirPath ?? pinnedPath(this.#handle) };
  }
  #file(): number {
    if (this.kind !== 'file') throw new WasiError('bad-descriptor');
    return this.#handle;
  }
  #mayChange(): void {
    if (this.ctx.readOnly) throw new WasiError('not-permitted');
  }
  /** Runs `operation` on the host path `path` leads to below this directory. */
  #at<T>(path: string, follow: boolean, operation: (hostPath: string) => T): T {
    return withFilesystemErrors(() => {
      const walked = walk(this.#dir(), path, follow, this.ctx.files);
      try {
        return operation(walked.hostPath);
      } finally {
        walked.release();
      }
    });
  }

  readViaStream(offset: bigint): InputStream {
    return withFilesystemErrors(() => {
      if (this.kind === 'directory') throw new WasiError('is-directory');
      return new InputStream(new FileSource(this.#file(), safeOffset(offset)), this.ctx.control);
    });
  }
  writeViaStream(offset: bigint): OutputStream {
    return withFilesystemErrors(() => {
      const fd = this.#file();
      this.#mayChange();
      return new OutputStream(new FileSink(fd, safeOffset(offset)), this.ctx.control);
    });
  }
  appendViaStream(): OutputStream {
    return withFilesystemErrors(() => {
      const fd = this.#file();
      this.#mayChange();
      return new OutputStream(new FileSink(fd, 'append'), this.ctx.control);
    });
  }
  /** Advice is a hint (Node has no posix_fadvise): accepted for files, refused for directories. */
  advise(_offset: bigint, _length: bigint, _advice: string): void {
    withFilesystemErrors(() => this.#file());
  }
  syncData(): void {
    withFilesystemErrors(() => fs.fdatasyncSync(this.#handle));
  }
  sync(): void {
    withFilesystemErrors(() => fs.fsyncSync(this.#handle));
  }
  getFlags(): DescriptorFlags {
    this.#handle;
    return this.kind === 'file'
      ? { read: this.mode.read, write: this.mode.write }
      : { read: this.mode.read, mutateDirectory: this.mode.write };
  }
  getType(): DescriptorType {
    return this.kind === 'directory' ? 'directory' : withFilesystemErrors(() => typeOf(fs.fstatSync(this.#handle)));
  }
  setSize(size: bigint): void {
    withFilesystemErrors(() => {
      const fd = this.#file();
      this.#mayChange();
      fs.ftruncateSync(fd, safeOffset(size));
    });
  }
  setTimes(accessed: NewTimestamp, modified: NewTimestamp): void {
    withFilesystemErrors(() => {
      this.#mayChange();
      const stat = fs.fstatSync(this.#handle, { bigint: true });
      fs.futimesSync(this.#handle, timeOf(accessed, stat.atimeNs), timeOf(modified, stat.mtimeNs));
    });
  }
  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    return withFilesystemErrors(() => {
      const buffer = new Uint8Array(Math.min(Number(length), 1 << 20));
      const count = fs.readSync(this.#file(), buffer, 0, buffer.length, safeOffset(offset));
      return [buffer.subarray(0, count), count === 0];
    });
  }
  write(buffer: Uint8Array, offset: bigint): bigint {
    return withFilesystemErrors(() => {
      const fd = this.#file();
      this.#mayChange();
      return BigInt(fs.writeSync(fd, buffer, 0, buffer.length, safeOffset(offset)));
    });
  }
  readDirectory(): DirectoryEntryStream {
    return withFilesystemErrors(() => {
      const dir = this.#dir().hostPath;
      const entries = fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
      return new DirectoryEntryStream(entries.map((e) => ({ name: e.name, type: () => (isUnknown(e) ? lstatType(`${dir}/${e.name.toString()}`) : typeOf(e)) })));
    });
  }
  createDirectoryAt(path: string): void {
    this.#mayChangeAt();
    this.#at(path, false, (host) => fs.mkdirSync(host, 0o777));
  }
  stat() {
    return withFilesystemErrors(() => statOf(fs.fstatSync(this.#handle, { bigint: true })));
  }
  statAt(pathFlags: PathFlags, path: string) {
    return this.#at(path, pathFlags.symlinkFollow ?? false, (host) => statOf(fs.lstatSync(host, { bigint: true })));
  }
  setTimesAt(pathFlags: PathFlags, path: string, accessed: NewTimestamp, modified: NewTimestamp): void {
    this.#mayChangeAt();
    this.#at(path, pathFlags.symlinkFollow ?? false, (host) => {
      const stat = fs.lstatSync(host, { bigint: true });
      fs.lutimesSync(host, timeOf(accessed, stat.atimeNs), timeOf(modified, stat.mtimeNs));
    });
  }
  linkAt(oldPathFlags: PathFlags, oldPath: string, target: Descriptor, newPath: string): void {
    this.#twoDirectories(target);
    withFilesystemErrors(() => {
      if (oldPathFlags.symlinkFollow) throw new WasiError('invalid');
    });
    this.#at(oldPath, false, (from) => target.#at(newPath, false, (to) => fs.linkSync(from, to)));
  }
  openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): Descriptor {
    return this.#openAt(pathFlags, path, openFlags, flags);
  }
  readlinkAt(path: string): string {
    return this.#at(path, false, (host) => {
      try {
        return utf8.decode(fs.readlinkSync(host, { encoding: 'buffer' }));
      } catch (error) {
        if (error instanceof TypeError) throw new WasiError('illegal-byte-sequence');
        throw error;
      }
    });
  }
  removeDirectoryAt(path: string): void {
    this.#mayChangeAt();
    this.#at(path, false, (host) => fs.rmdirSync(host));
  }
  renameAt(oldPath: string, target: Descriptor, newPath: string): void {
    this.#twoDirectories(target);
    this.#at(oldPath, false, (from) => target.#at(newPath, false, (to) => fs.renameSync(from, to)));
  }
  symlinkAt(targetPath: string, linkPath: string): void {
    this.#mayChangeAt();
    withFilesystemErrors(() => {
      if (targetPath.startsWith('/')) throw new WasiError('not-permitted'); // no link may name the host's root
      if (targetPath.includes('\0')) throw new WasiError('invalid');
    });
    this.#at(linkPath, false, (host) => {
      // as cap-std: an existing non-directory named with a trailing slash is not-directory (Linux says exist)
      if (host.endsWith('/') && fs.lstatSync(host.slice(0, -1), { throwIfNoEntry: false })?.isDirectory() === false) throw new WasiError('not-directory');
      fs.symlinkSync(targetPath, host);
    });
  }
  unlinkFileAt(path: string): void {
    this.#mayChangeAt();
    this.#at(path, false, (host) => fs.unlinkSync(host));
  }
  isSameObject(other: Descriptor): boolean {
    return withFilesystemErrors(() => {
      const [a, b] = [fs.fstatSync(this.#handle, { bigint: true }), fs.fstatSync(other.#handle, { bigint: true })];
      return a.dev === b.dev && a.ino === b.ino;
    });
  }
  metadataHash() {
    return withFilesystemErrors(() => hashOf(fs.fstatSync(this.#handle, { bigint: true })));
  }
  metadataHashAt(pathFlags: PathFlags, path: string) {
    return this.#at(path, pathFlags.symlinkFollow ?? false, (host) => hashOf(fs.lstatSync(host, { bigint: true })));
  }
  /** Closes the host file or directory when the guest drops the descriptor. */
  [DISPOSE](): void {
    if (this.#fd === undefined || !this.owned) return; // a preopen's root lives as long as the guest
    const fd = this.#fd;
    this.#fd = undefined;
    // forget it first: closing a number the runtime might close again (after a kill) could hit a reused fd
    // false: the run's end took it already (a late dispose); the number may be someone else's now
    if (this.ctx.files.closed(fd) === false) return;
    fs.closeSync(fd);
  }

  #mayChangeAt(): void {
    withFilesystemErrors(() => {
      this.#dir();
      this.#mayChange();
    });
  }
  /** rename and link: both directories writable, and of one kind of preopen (wasmtime refuses across permissions). */
  #twoDirectories(target: Descriptor): void {
    withFilesystemErrors(() => {
      this.#dir();
      target.#dir();
      this.#mayChange();
      target.#mayChange();
      if (this.ctx.readOnly !== target.ctx.readOnly) throw new WasiError('not-permitted');
    });
  }

  #openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): Descriptor {
    return withFilesystemErrors(() => {
      this.#dir();
      let write = flags.write === true;
      const create = openFlags.create === true;
      if (create || openFlags.truncate) write = true;
      const read = flags.read === true || !write;
      if (flags['fileIntegritySync'] || flags['dataIntegritySync'] || flags['requestedWriteSync']) throw new WasiError('unsupported');
      if (openFlags.directory && (create || openFlags.exclusive || openFlags.truncate)) throw new WasiError('invalid');
      if (this.ctx.readOnly && write) throw new WasiError('not-permitted');
      const access = write ? (read ? O_RDWR : O_WRONLY) : O_RDONLY;
      const mode = access | (create ? O_CREAT : 0) | (create && openFlags.exclusive ? O_EXCL : 0) | (openFlags.truncate ? O_TRUNC : 0) | O_NOFOLLOW;
      const fd = this.#at(path, pathFlags.symlinkFollow ?? false, (host) => fs.openSync(host, mode, 0o666));
      let kind: 'directory' | 'file';
      try {
        kind = fs.fstatSync(fd).isDirectory() ? 'directory' : 'file';
        if (kind === 'file' && openFlags.directory) throw new WasiError('not-directory');
      } catch (error) {
        fs.closeSync(fd);
        throw error;
      }
      if (!this.ctx.files.opened(fd)) {
        fs.closeSync(fd);
        throw new WasiError('insufficient-memory');
      }
      // where /proc/self/fd is missing, a directory is named by its path (the kernel tracks no name for the fd)
      const dirPath = kind === 'directory' && !PINNED_PATHS ? this.#at(path, pathFlags.symlinkFollow ?? false, (host) => fs.realpathSync(host)) : undefined;
      return new Descriptor(this.ctx, kind, fd, { read, write }, dirPath);
    });
  }
}

export function createFilesystemImports(preopens: PreopenDir[], control: GuestControl, files: FdTracker) {
  const roots = preopens.map((p) => ({ root: new SandboxRoot(p.hostPath, files), ctx: { readOnly: p.readOnly, control, files }, guestPath: p.guestPath }));
  // a fresh handle per call, as wasmtime gives (the guest may drop one): readable and, unless the
  // preopen is read-only, mutable; the pinned root itself lives as long as the guest
  const getDirectories = (): Array<[Descriptor, string]> => roots.map(({ root, ctx, guestPath }) =>
    [new Descriptor(ctx, 'directory', root.fd, { read: true, write: !ctx.readOnly }, PINNED_PATHS ? undefined : root.hostRoot, false), guestPath]);
  return {
    'wasi:filesystem/preopens': { getDirectories },
    'wasi:filesystem/types': {
      Descriptor,
      DirectoryEntryStream,
      filesystemErrorCode: (error: IoError): FilesystemErrorCode | undefined =>
        error instanceof IoError && error.errno ? filesystemCodeForErrno(error.errno) : undefined,
    },
  };
}
