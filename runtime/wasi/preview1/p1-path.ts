// p1 calls on directories (path_* and fd_readdir), translated to WASI 0.2 descriptor calls as
// wasmtime's p1 does: a base fd that is not a directory is EBADF (ENOTDIR for path_open on a file).
import { Errno, Fdflags, Fstflags, LOOKUP_SYMLINK_FOLLOW, Oflags, P1Error, Rights, Size, Filetype } from './p1-abi.js';
import { errnoOf, filetypeOf, writeFilestat, type P1Context } from './p1-context.js';
import { utf8Bytes } from './guest-memory.js';
import { timestampOf } from './p1-fd.js';

const pathFlags = (lookup: number) => ({ symlinkFollow: (lookup & LOOKUP_SYMLINK_FOLLOW) !== 0 });

export function createPathCalls(ctx: P1Context) {
  const { memory, fds } = ctx;
  const dir = (fd: number) => fds.dir(fd).descriptor;
  const path = (ptr: number, length: number) => memory.string(ptr, length);
  return {
    path_create_directory: (fd: number, ptr: number, length: number) => errnoOf(() => dir(fd).createDirectoryAt(path(ptr, length))),
    path_filestat_get: (fd: number, lookup: number, ptr: number, length: number, out: number) => errnoOf(() => {
      const base = dir(fd);
      const name = path(ptr, length);
      const stat = base.statAt(pathFlags(lookup), name);
      writeFilestat(memory, out, stat, base.metadataHashAt(pathFlags(lookup), name).lower);
    }),
    path_filestat_set_times: (fd: number, lookup: number, ptr: number, length: number, atim: bigint, mtim: bigint, fstFlags: number) => errnoOf(() => {
      const accessed = timestampOf((fstFlags & Fstflags.ATIM) !== 0, atim, (fstFlags & Fstflags.ATIM_NOW) !== 0);
      const modified = timestampOf((fstFlags & Fstflags.MTIM) !== 0, mtim, (fstFlags & Fstflags.MTIM_NOW) !== 0);
      dir(fd).setTimesAt(pathFlags(lookup), path(ptr, length), accessed, modified);
    }),
    path_link: (oldFd: number, lookup: number, oldPtr: number, oldLength: number, newFd: number, newPtr: number, newLength: number) => errnoOf(() => {
      const source = dir(oldFd);
      const target = dir(newFd);
      source.linkAt(pathFlags(lookup), path(oldPtr, oldLength), target, path(newPtr, newLength));
    }),
    path_open: (fd: number, lookup: number, ptr: number, length: number, oflags: number, rightsBase: bigint, _rightsInheriting: bigint, fdflags: number, out: number) => errnoOf(() => {
      const name = path(ptr, length);
      const entry = fds.get(fd);
      if (entry.kind === 'file') throw new P1Error(Errno.NOTDIR);
      if (entry.kind !== 'dir') throw new P1Error(Errno.BADF);
      const opened = entry.descriptor.openAt(pathFlags(lookup), name, {
        create: (oflags & Oflags.CREAT) !== 0,
        directory: (oflags & Oflags.DIRECTORY) !== 0,
        exclusive: (oflags & Oflags.EXCL) !== 0,
        truncate: (oflags & Oflags.TRUNC) !== 0,
      }, {
        read: (rightsBase & Rights.FD_READ) !== 0n,
        write: (rightsBase & Rights.FD_WRITE) !== 0n,
        fileIntegritySync: (fdflags & Fdflags.SYNC) !== 0,
        dataIntegritySync: (fdflags & Fdflags.DSYNC) !== 0,
        requestedWriteSync: (fdflags & Fdflags.RSYNC) !== 0,
      });
      const newFd = opened.getType() === 'directory'
        ? fds.push({ kind: 'dir', descriptor: opened })
        : fds.push({ kind: 'file', descriptor: opened, position: 0n, append: (fdflags & Fdflags.APPEND) !== 0, nonblocking: (fdflags & Fdflags.NONBLOCK) !== 0 });
      memory.setU32(out, newFd);
    }),
    path_readlink: (fd: number, ptr: number, length: number, buf: number, bufLength: number, out: number) => errnoOf(() => {
      const target = utf8Bytes(dir(fd).readlinkAt(path(ptr, length))).subarray(0, bufLength >>> 0);
      memory.write(buf, target);
      memory.setU32(out, target.length);
    }),
    path_remove_directory: (fd: number, ptr: number, length: number) => errnoOf(() => dir(fd).removeDirectoryAt(path(ptr, length))),
    path_rename: (fd: number, oldPtr: number, oldLength: number, newFd: number, newPtr: number, newLength: number) => errnoOf(() => {
      const source = dir(fd);
      const target = dir(newFd);
      source.renameAt(path(oldPtr, oldLength), target, path(newPtr, newLength));
    }),
    path_symlink: (oldPtr: number, oldLength: number, fd: number, newPtr: number, newLength: number) => errnoOf(() => {
      const base = dir(fd);
      base.symlinkAt(path(oldPtr, oldLength), path(newPtr, newLength));
    }),
    path_unlink_file: (fd: number, ptr: number, length: number) => errnoOf(() => dir(fd).unlinkFileAt(path(ptr, length))),
    fd_readdir: (fd: number, buf: number, bufLength: number, cookie: bigint, out: number) => errnoOf(() => {
      memory.setU32(out, readdir(ctx, fd, buf, bufLength >>> 0, cookie));
    }),
  };
}

/**
 * Fills `buf` with dirents from `cookie` on: `.` and `..` first (cookies 1 and 2), then the
 * entries (3...). Each dirent's header and name may be cut at the end of the buffer; a full buffer
 * tells the guest to ask again from the last complete entry, as wasmtime does.
 */
function readdir(ctx: P1Context, fd: number, buf: number, bufLength: number, cookie: bigint): number {
  const base = ctx.fds.dir(fd).descriptor;
  const stream = base.readDirectory();
  const dirIno = base.metadataHash().lower;
  const entries: Array<{ ino: bigint; type: number; name: Uint8Array }> = [
    { ino: dirIno, type: Filetype.DIRECTORY, name: utf8Bytes('.') },
    { ino: dirIno, type: Filetype.DIRECTORY, name: utf8Bytes('..') },
  ];
  for (let entry = stream.readDirectoryEntry(); entry; entry = stream.readDirectoryEntry()) {
    entries.push({ ino: base.metadataHashAt({}, entry.name).lower, type: filetypeOf(entry.type), name: utf8Bytes(entry.name) });
  }
  if (cookie > BigInt(Number.MAX_SAFE_INTEGER)) return 0;
  let used = 0;
  const header = new Uint8Array(Size.DIRENT);
  const view = new DataView(header.buffer);
  for (let i = Number(cookie); i < entries.length; i++) {
    const entry = entries[i]!;
    view.setBigUint64(0, BigInt(i + 1), true);
    view.setBigUint64(8, entry.ino, true);
    view.setUint32(16, entry.name.length, true);
    view.setUint8(20, entry.type);
    for (const part of [header, entry.name]) {
      const take = Math.min(part.length, bufLength - used);
      ctx.memory.write(buf + used, part.subarray(0, take));
      used += take;
      if (used === bufLength) return used;
    }
  }
  return used;
}
