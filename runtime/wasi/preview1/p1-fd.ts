// p1 calls on file descriptors (fd_*), translated to WASI 0.2 calls as wasmtime's p1 does: reads
// and writes use the first non-empty iovec (a short read or write, which libc loops over), files
// keep their own cursor, stdio cannot seek.
import { ADVICE, Errno, Fdflags, Filetype, Fstflags, P1Error, Rights, Size, Whence } from './p1-abi.js';
import { errnoOf, filetypeOf, writeFilestat, type P1Context } from './p1-context.js';
import type { FileEntry } from './fd-table.js';
import { utf8Bytes } from './guest-memory.js';

type NewTimestamp = { tag: 'no-change' } | { tag: 'now' } | { tag: 'timestamp'; val: { seconds: bigint; nanoseconds: number } };

const STDIO_CHUNK = 4096;

/** The first non-empty iovec of a list (wasmtime reads and writes only that one). */
function firstBuffer(ctx: P1Context, iovs: number, count: number): { ptr: number; length: number } {
  for (let i = 0; i < count >>> 0; i++) {
    const ptr = ctx.memory.u32(iovs + i * Size.IOVEC);
    const length = ctx.memory.u32(iovs + i * Size.IOVEC + 4);
    if (length > 0) return { ptr, length };
  }
  return { ptr: 0, length: 0 };
}

export function timestampOf(set: boolean, ns: bigint, now: boolean): NewTimestamp {
  if (set && now) throw new P1Error(Errno.INVAL);
  if (set) return { tag: 'timestamp', val: { seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) } };
  return now ? { tag: 'now' } : { tag: 'no-change' };
}

function readFile(ctx: P1Context, file: FileEntry, ptr: number, length: number, offset: bigint): number {
  if (length === 0) return 0;
  const [bytes] = file.descriptor.read(BigInt(length), offset);
  ctx.memory.write(ptr, bytes);
  return bytes.length;
}

function writeFile(ctx: P1Context, file: FileEntry, ptr: number, length: number, offset: bigint | 'cursor'): number {
  // wasmtime's p1 writes to the host file as it was opened: not for writing is EBADF, read-only preopen or not
  if (!file.descriptor.getFlags().write) throw new P1Error(Errno.BADF);
  const bytes = ctx.memory.bytes(ptr, length).slice();
  // Linux pwrite semantics: in append mode the offset is ignored
  const at = file.append ? file.descriptor.stat().size : offset === 'cursor' ? file.position : offset;
  const written = bytes.length === 0 ? 0 : Number(file.descriptor.write(bytes, at));
  if (offset === 'cursor') file.position = file.append ? file.descriptor.stat().size : file.position + BigInt(written);
  return written;
}

export function createFdCalls(ctx: P1Context) {
  const { memory, fds } = ctx;
  return {
    fd_advise: (fd: number, offset: bigint, length: bigint, advice: number) => errnoOf(() => {
      const file = fds.file(fd);
      if (advice >>> 0 >= ADVICE.length) throw new P1Error(Errno.INVAL);
      file.descriptor.advise(offset, length, ADVICE[advice]!);
    }),
    fd_allocate: (fd: number) => errnoOf(() => {
      fds.file(fd);
      throw new P1Error(Errno.NOTSUP);
    }),
    fd_close: (fd: number) => errnoOf(() => fds.close(fd)),
    fd_datasync: (fd: number) => errnoOf(() => fds.file(fd).descriptor.syncData()),
    fd_sync: (fd: number) => errnoOf(() => fds.file(fd).descriptor.sync()),
    fd_fdstat_get: (fd: number, out: number) => errnoOf(() => {
      const entry = fds.get(fd);
      let filetype: number = Filetype.UNKNOWN; // stdio is no terminal here
      let flags = 0;
      let base: bigint;
      let inheriting: bigint | undefined;
      if (entry.kind !== 'file' && entry.kind !== 'dir') base = entry.kind === 'stdin' ? Rights.FD_READ : Rights.FD_WRITE;
      else if (entry.kind === 'dir' && entry.preopenPath !== undefined) {
        filetype = Filetype.DIRECTORY;
        base = PREOPEN_RIGHTS;
        inheriting = PREOPEN_RIGHTS | PREOPEN_INHERITED_RIGHTS;
      } else {
        const descriptorFlags = entry.descriptor.getFlags();
        filetype = filetypeOf(entry.descriptor.getType());
        base = Rights.ALL;
        if (filetype === Filetype.DIRECTORY) base &= ~(Rights.FD_SEEK | Rights.FD_FILESTAT_SET_SIZE | Rights.PATH_FILESTAT_SET_SIZE);
        if (!descriptorFlags.read) base &= ~(Rights.FD_READ | Rights.FD_READDIR);
        if (!descriptorFlags.write) base &= ~Rights.FD_WRITE;
        if (descriptorFlags.dataIntegritySync) flags |= Fdflags.DSYNC;
        if (descriptorFlags.requestedWriteSync) flags |= Fdflags.RSYNC;
        if (descriptorFlags.fileIntegritySync) flags |= Fdflags.SYNC;
        if (entry.kind === 'file' && entry.append) flags |= Fdflags.APPEND;
        if (entry.kind === 'file' && entry.nonblocking) flags |= Fdflags.NONBLOCK;
      }
      memory.setU8(out, filetype);
      memory.setU8(out + 1, 0);
      memory.setU16(out + 2, flags);
      memory.setU32(out + 4, 0);
      memory.setU64(out + 8, base);
      memory.setU64(out + 16, inheriting ?? base);
    }),
    fd_fdstat_set_flags: (fd: number, flags: number) => errnoOf(() => {
      const file = fds.file(fd);
      if (flags & (Fdflags.DSYNC | Fdflags.SYNC | Fdflags.RSYNC)) throw new P1Error(Errno.INVAL);
      file.append = (flags & Fdflags.APPEND) !== 0;
      file.nonblocking = (flags & Fdflags.NONBLOCK) !== 0;
    }),
    fd_fdstat_set_rights: (fd: number) => errnoOf(() => {
      fds.descriptor(fd);
      throw new P1Error(Errno.NOTSUP);
    }),
    fd_filestat_get: (fd: number, out: number) => errnoOf(() => {
      const entry = fds.get(fd);
      if (entry.kind !== 'file' && entry.kind !== 'dir') {
        for (let i = 0; i < Size.FILESTAT; i += 8) memory.setU64(out + i, 0n); // stdio: all zero, type unknown
        return;
      }
      writeFilestat(memory, out, entry.descriptor.stat(), entry.descriptor.metadataHash().lower);
    }),
    fd_filestat_set_size: (fd: number, size: bigint) => errnoOf(() => fds.file(fd).descriptor.setSize(size)),
    fd_filestat_set_times: (fd: number, atim: bigint, mtim: bigint, fstFlags: number) => errnoOf(() => {
      const accessed = timestampOf((fstFlags & Fstflags.ATIM) !== 0, atim, (fstFlags & Fstflags.ATIM_NOW) !== 0);
      const modified = timestampOf((fstFlags & Fstflags.MTIM) !== 0, mtim, (fstFlags & Fstflags.MTIM_NOW) !== 0);
      fds.descriptor(fd).setTimes(accessed, modified);
    }),
    fd_read: (fd: number, iovs: number, count: number, out: number) => errnoOf(() => {
      const { ptr, length } = firstBuffer(ctx, iovs, count);
      const entry = fds.get(fd);
      let read: number;
      if (entry.kind === 'file') {
        read = readFile(ctx, entry, ptr, length, entry.position);
        entry.position += BigInt(read);
      } else if (entry.kind === 'stdin') {
        read = readStream(ctx, entry.stream, ptr, length);
      } else throw new P1Error(Errno.BADF);
      memory.setU32(out, read);
    }),
    fd_pread: (fd: number, iovs: number, count: number, offset: bigint, out: number) => errnoOf(() => {
      const { ptr, length } = firstBuffer(ctx, iovs, count);
      const entry = fds.get(fd);
      if (entry.kind === 'stdin') throw new P1Error(Errno.SPIPE);
      if (entry.kind !== 'file') throw new P1Error(Errno.BADF);
      memory.setU32(out, readFile(ctx, entry, ptr, length, offset));
    }),
    fd_write: (fd: number, iovs: number, count: number, out: number) => errnoOf(() => {
      memory.setU32(out, write(ctx, fd, iovs, count, 'cursor'));
    }),
    fd_pwrite: (fd: number, iovs: number, count: number, offset: bigint, out: number) => errnoOf(() => {
      memory.setU32(out, write(ctx, fd, iovs, count, offset));
    }),
    fd_seek: (fd: number, offset: bigint, whence: number, out: number) => errnoOf(() => {
      const file = fds.seekable(fd);
      let position: bigint;
      if (whence === Whence.SET) position = offset;
      else if (whence === Whence.CUR) position = file.position + offset;
      else if (whence === Whence.END) position = file.descriptor.stat().size + offset;
      else throw new P1Error(Errno.INVAL);
      if (position < 0n || position > 0xffff_ffff_ffff_ffffn) throw new P1Error(Errno.INVAL);
      file.position = position;
      memory.setU64(out, position);
    }),
    fd_tell: (fd: number, out: number) => errnoOf(() => memory.setU64(out, fds.seekable(fd).position)),
    fd_renumber: (from: number, to: number) => errnoOf(() => fds.renumber(from, to)),
    fd_prestat_get: (fd: number, out: number) => errnoOf(() => {
      const entry = fds.get(fd);
      if (entry.kind !== 'dir' || entry.preopenPath === undefined) throw new P1Error(Errno.BADF);
      memory.setU32(out, 0); // tag: a directory
      memory.setU32(out + 4, utf8Bytes(entry.preopenPath).length);
    }),
    fd_prestat_dir_name: (fd: number, ptr: number, length: number) => errnoOf(() => {
      const entry = fds.get(fd);
      if (entry.kind !== 'dir' || entry.preopenPath === undefined) throw new P1Error(Errno.NOTDIR);
      const name = utf8Bytes(entry.preopenPath);
      if (name.length > length >>> 0) throw new P1Error(Errno.NAMETOOLONG);
      memory.write(ptr, name);
    }),
  };
}

function readStream(ctx: P1Context, stream: { blockingRead(length: bigint): Uint8Array }, ptr: number, length: number): number {
  let bytes: Uint8Array;
  try {
    bytes = stream.blockingRead(BigInt(length));
  } catch (error) {
    if ((error as { payload?: { tag?: string } }).payload?.tag === 'closed') return 0; // end of input
    throw error;
  }
  if (bytes.length === 0 && length > 0) throw new P1Error(Errno.INTR);
  ctx.memory.write(ptr, bytes);
  return bytes.length;
}

function write(ctx: P1Context, fd: number, iovs: number, count: number, offset: bigint | 'cursor'): number {
  const { ptr, length } = firstBuffer(ctx, iovs, count);
  const entry = ctx.fds.get(fd);
  if (entry.kind === 'file') return writeFile(ctx, entry, ptr, length, offset);
  if (entry.kind !== 'stdout' && entry.kind !== 'stderr') throw new P1Error(Errno.BADF);
  if (offset !== 'cursor') throw new P1Error(Errno.SPIPE);
  const bytes = ctx.memory.bytes(ptr, length).slice();
  for (let done = 0; done < bytes.length; done += STDIO_CHUNK) entry.stream.blockingWriteAndFlush(bytes.subarray(done, done + STDIO_CHUNK));
  return bytes.length;
}

// the rights wasmtime reports for a preopened directory (what many userlands expect to see)
const PREOPEN_RIGHTS = Rights.PATH_CREATE_DIRECTORY | Rights.PATH_CREATE_FILE | Rights.PATH_LINK_SOURCE
  | Rights.PATH_LINK_TARGET | Rights.PATH_OPEN | Rights.FD_READDIR | Rights.PATH_READLINK | Rights.PATH_RENAME_SOURCE
  | Rights.PATH_RENAME_TARGET | Rights.PATH_SYMLINK | Rights.PATH_REMOVE_DIRECTORY | Rights.PATH_UNLINK_FILE
  | Rights.PATH_FILESTAT_GET | Rights.PATH_FILESTAT_SET_TIMES | Rights.FD_FILESTAT_GET | Rights.FD_FILESTAT_SET_TIMES;
const PREOPEN_INHERITED_RIGHTS = Rights.FD_DATASYNC | Rights.FD_READ | Rights.FD_SEEK | Rights.FD_FDSTAT_SET_FLAGS
  | Rights.FD_SYNC | Rights.FD_TELL | Rights.FD_WRITE | Rights.FD_ADVISE | Rights.FD_ALLOCATE | Rights.FD_FILESTAT_GET
  | Rights.FD_FILESTAT_SET_SIZE | Rights.FD_FILESTAT_SET_TIMES | Rights.POLL_FD_READWRITE;
