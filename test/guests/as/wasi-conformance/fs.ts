// Files, directories, paths and links through the preview 1 calls, with the errno values wasmtime
// gives on Linux.
import {
  errno, fd_close, fd_fdstat_get, fd_fdstat_set_flags, fd_filestat_get, fd_filestat_set_size, fd_read, fd_readdir,
  fd_renumber, fd_seek, fd_tell, fd_write, fd_advise, fd_allocate, fd_prestat_get, fd_prestat_dir_name,
  path_create_directory, path_filestat_get, path_link, path_open, path_readlink, path_remove_directory, path_rename,
  path_symlink, path_unlink_file, rights, oflags, lookupflags, fdflags, whence, filetype, filestat, fdstat, prestat,
} from "bindings/wasi_snapshot_preview1";
import { check, expectErrno, expectEither, out, data, utf8 } from "./harness";

const SCRATCH: u32 = 3;
const RO: u32 = 4;
const RW: u64 = rights.FD_READ | rights.FD_WRITE;

export let lastFd: u32 = 0;

export function open(dir: u32, lookup: u32, path: string, flags: u16, rights_: u64, fdflags_: u16): errno {
  const p = utf8(path);
  const e = path_open(dir, lookup, changetype<usize>(p), p.byteLength, flags, rights_, rights_, fdflags_, out);
  if (e == 0) lastFd = load<u32>(out);
  return e;
}

function tryOpen(path: string, lookup: u32, flags: u16, rights_: u64): errno {
  const e = open(SCRATCH, lookup, path, flags, rights_, 0);
  if (e == 0) fd_close(lastFd);
  return e;
}

function write(fd: u32, text: string): errno {
  const bytes = utf8(text);
  store<usize>(out, changetype<usize>(bytes));
  store<usize>(out, bytes.byteLength, 4);
  return fd_write(fd, out, 1, out + 8);
}

function read(fd: u32, length: usize): errno {
  store<usize>(out, data);
  store<usize>(out, length, 4);
  return fd_read(fd, out, 1, out + 8);
}

const readCount = (): u32 => load<u32>(out + 8);

function mkdir(path: string): errno { const p = utf8(path); return path_create_directory(SCRATCH, changetype<usize>(p), p.byteLength); }
function rmdir(path: string): errno { const p = utf8(path); return path_remove_directory(SCRATCH, changetype<usize>(p), p.byteLength); }
function unlink(path: string): errno { const p = utf8(path); return path_unlink_file(SCRATCH, changetype<usize>(p), p.byteLength); }
function symlink(target: string, name: string, dir: u32 = SCRATCH): errno {
  const t = utf8(target); const n = utf8(name);
  return path_symlink(changetype<usize>(t), t.byteLength, dir, changetype<usize>(n), n.byteLength);
}
function rename(from: string, to: string, fromDir: u32 = SCRATCH): errno {
  const a = utf8(from); const b = utf8(to);
  return path_rename(fromDir, changetype<usize>(a), a.byteLength, SCRATCH, changetype<usize>(b), b.byteLength);
}
function link(from: string, to: string, lookup: u32): errno {
  const a = utf8(from); const b = utf8(to);
  return path_link(SCRATCH, lookup, changetype<usize>(a), a.byteLength, SCRATCH, changetype<usize>(b), b.byteLength);
}
function filetypeAt(path: string, lookup: u32): i32 {
  const p = utf8(path);
  const e = path_filestat_get(SCRATCH, lookup, changetype<usize>(p), p.byteLength, changetype<filestat>(out));
  return e == 0 ? <i32>load<u8>(out, 16) : -<i32>e;
}

export function files(): void {
  expectErrno(open(SCRATCH, 0, "data", oflags.CREAT, RW, 0), 0, "create a file");
  const fd = lastFd;
  check(fd > 4, "a new fd comes after the preopens");
  check(write(fd, "hello world") == 0 && readCount() == 11, "write");
  check(fd_tell(fd, out) == 0 && load<u64>(out) == 11, "tell after write");
  check(fd_seek(fd, -5, whence.CUR, out) == 0 && load<u64>(out) == 6, "seek back from the cursor");
  check(read(fd, 64) == 0 && readCount() == 5 && String.UTF8.decodeUnsafe(data, 5) == "world", "read from the cursor");
  expectErrno(fd_seek(fd, -100, whence.CUR, out), errno.INVAL, "seek before 0 is EINVAL");
  check(fd_filestat_set_size(fd, 3) == 0 && fd_filestat_get(fd, changetype<filestat>(out)) == 0 && load<u64>(out, 32) == 3, "set_size");
  check(fd_filestat_get(fd, changetype<filestat>(out)) == 0 && load<u8>(out, 16) == filetype.REGULAR_FILE, "filestat type");
  expectErrno(fd_advise(fd, 0, 3, 1), 0, "advise a file");
  expectErrno(fd_allocate(fd, 0, 10), errno.NOTSUP, "allocate is ENOTSUP");
  expectErrno(fd_fdstat_set_flags(fd, fdflags.APPEND), 0, "set APPEND");
  check(fd_seek(fd, 0, whence.SET, out) == 0 && write(fd, "!") == 0 && fd_tell(fd, out) == 0 && load<u64>(out) == 4, "append writes at the end");
  check(fd_fdstat_get(fd, changetype<fdstat>(out)) == 0 && (load<u16>(out, 2) & fdflags.APPEND) != 0, "fdstat shows APPEND");
  expectErrno(open(SCRATCH, 0, "data", 0, rights.FD_READ, 0), 0, "open read-only");
  const ro = lastFd;
  expectErrno(write(ro, "x"), errno.BADF, "write to a read-only file is EBADF");
  expectErrno(fd_renumber(ro, fd), 0, "renumber onto an open fd");
  expectErrno(fd_close(ro), errno.BADF, "the renumbered fd is closed");
  expectErrno(fd_renumber(fd, 4000), errno.BADF, "renumber onto an unused fd is EBADF");
  fd_close(fd);
  expectErrno(fd_close(fd), errno.BADF, "close twice is EBADF");
  expectErrno(write(77, "x"), errno.BADF, "write to an invalid fd is EBADF");
  expectErrno(fd_seek(1, 0, whence.CUR, out), errno.SPIPE, "seek on stdout is ESPIPE");
  expectErrno(fd_seek(SCRATCH, 0, whence.CUR, out), errno.BADF, "seek on a directory is EBADF");
  expectErrno(fd_advise(SCRATCH, 0, 0, 4), errno.BADF, "advise a directory is EBADF");
  check(fd_prestat_get(SCRATCH, changetype<prestat>(out)) == 0 && load<u32>(out, 4) == 8, "prestat of the first preopen");
  check(fd_prestat_dir_name(SCRATCH, data, 8) == 0 && String.UTF8.decodeUnsafe(data, 8) == "/scratch", "preopen name");
  expectErrno(fd_prestat_dir_name(SCRATCH, data, 2), errno.NAMETOOLONG, "preopen name into a short buffer");
  check(fd_fdstat_get(1, changetype<fdstat>(out)) == 0 && load<u8>(out) == filetype.UNKNOWN, "stdout is no terminal");
  unlink("data");
}

export function directories(): void {
  expectErrno(mkdir("dir"), 0, "create a directory");
  expectErrno(mkdir("dir"), errno.EXIST, "create it again is EEXIST");
  expectErrno(open(SCRATCH, 0, "dir/a", oflags.CREAT, RW, 0), 0, "a file in it");
  fd_close(lastFd);
  expectErrno(open(SCRATCH, 0, "dir", oflags.DIRECTORY, rights.FD_READDIR, 0), 0, "open the directory");
  const dir = lastFd;
  check(fd_readdir(dir, data, 1024, 0, out) == 0 && load<u32>(out) == 3 * 24 + 1 + 2 + 1, "readdir lists ., .. and the file");
  check(fd_readdir(dir, data, 1024, 2, out) == 0 && load<u32>(out) == 24 + 1 && load<u8>(data, 24) == 0x61, "readdir from a cookie");
  expectErrno(read(dir, 8), errno.BADF, "read a directory is EBADF");
  fd_close(dir);
  expectErrno(rmdir("dir"), errno.NOTEMPTY, "rmdir a non-empty directory is ENOTEMPTY");
  expectErrno(unlink("dir"), errno.ISDIR, "unlink a directory is EISDIR");
  expectErrno(unlink("dir/"), errno.ISDIR, "unlink a directory with a trailing slash is EISDIR");
  expectErrno(unlink("dir/a/"), errno.NOTDIR, "unlink a file with a trailing slash is ENOTDIR");
  expectErrno(rmdir("dir/a"), errno.NOTDIR, "rmdir a file is ENOTDIR");
  expectErrno(rmdir("dir/a/"), errno.NOTDIR, "rmdir a file with a trailing slash is ENOTDIR");
  expectErrno(rename("dir/a", "moved"), 0, "rename a file");
  expectErrno(rename("moved", "dir"), errno.ISDIR, "rename a file onto a directory is EISDIR");
  expectErrno(rename("dir/", "dir2"), 0, "rename a directory named with a trailing slash");
  expectErrno(rename("dir2", "moved"), errno.NOTDIR, "rename a directory onto a file is ENOTDIR");
  expectErrno(rmdir("dir2"), 0, "rmdir");
}

export function paths(): void {
  expectErrno(tryOpen("missing", 0, 0, 0), errno.NOENT, "open a missing file is ENOENT");
  expectErrno(tryOpen("moved", 0, oflags.CREAT | oflags.EXCL, RW), errno.EXIST, "CREAT|EXCL on an existing file is EEXIST");
  expectErrno(tryOpen("moved", 0, oflags.DIRECTORY, 0), errno.NOTDIR, "DIRECTORY on a file is ENOTDIR");
  expectErrno(tryOpen("x", 0, oflags.DIRECTORY | oflags.CREAT, 0), errno.INVAL, "DIRECTORY|CREAT is EINVAL");
  expectErrno(tryOpen("moved/", 0, 0, 0), errno.NOTDIR, "a file with a trailing slash is ENOTDIR");
  expectErrno(tryOpen("/moved", 0, 0, 0), errno.PERM, "an absolute path is EPERM");
  expectErrno(tryOpen("../moved", 0, 0, 0), errno.PERM, ".. above the directory is EPERM");
  expectErrno(tryOpen(".", 0, oflags.DIRECTORY, RW), errno.ISDIR, "open a directory for writing is EISDIR");
  expectErrno(symlink("moved", "link"), 0, "symlink");
  expectErrno(symlink("moved", "link"), errno.EXIST, "symlink again is EEXIST");
  const name = utf8("link");
  check(path_readlink(SCRATCH, changetype<usize>(name), name.byteLength, data, 64, out) == 0 && load<u32>(out) == 5 && String.UTF8.decodeUnsafe(data, 5) == "moved", "readlink");
  check(path_readlink(SCRATCH, changetype<usize>(name), name.byteLength, data, 3, out) == 0 && load<u32>(out) == 3, "readlink into a short buffer truncates");
  expectErrno(tryOpen("link", 0, 0, 0), errno.LOOP, "open a symlink without following is ELOOP");
  expectErrno(tryOpen("link", lookupflags.SYMLINK_FOLLOW, 0, 0), 0, "open a symlink following it");
  check(filetypeAt("link", 0) == filetype.SYMBOLIC_LINK && filetypeAt("link", lookupflags.SYMLINK_FOLLOW) == filetype.REGULAR_FILE, "filestat with and without following");
  expectErrno(symlink("loop", "loop"), 0, "a self-referencing symlink");
  expectErrno(tryOpen("loop", lookupflags.SYMLINK_FOLLOW, 0, 0), errno.LOOP, "open a symlink loop is ELOOP");
  expectErrno(symlink("/", "root"), errno.PERM, "a symlink to an absolute path is refused");
  expectErrno(symlink("x", "moved/"), errno.NOTDIR, "symlink onto a file with a trailing slash is ENOTDIR");
  expectErrno(symlink("x", "fresh/"), errno.NOENT, "symlink named with a trailing slash is ENOENT");
  expectErrno(link("moved", "hard", 0), 0, "a hard link");
  expectErrno(link("moved", "hard", 0), errno.EXIST, "link onto an existing name is EEXIST");
  expectErrno(link("moved", "other", lookupflags.SYMLINK_FOLLOW), errno.INVAL, "link following symlinks is EINVAL");
  expectErrno(link("moved", "new/", 0), errno.NOENT, "a link named with a trailing slash is ENOENT");
  unlink("link"); unlink("loop"); unlink("hard"); unlink("moved");
}

export function readOnly(): void {
  expectErrno(open(RO, 0, "ro.txt", 0, rights.FD_READ, 0), 0, "read-only preopen: open for reading");
  const fd = lastFd;
  check(read(fd, 64) == 0 && readCount() == 20 && String.UTF8.decodeUnsafe(data, 20) == "read only test file\n", "read-only preopen: read");
  expectEither(write(fd, "x"), errno.BADF, errno.PERM, "read-only preopen: write is EBADF (EPERM through the adapter)");
  fd_close(fd);
  expectErrno(open(RO, 0, "ro.txt", oflags.TRUNC, rights.FD_READ, 0), errno.PERM, "read-only preopen: TRUNC is EPERM");
  expectErrno(open(RO, 0, "new", oflags.CREAT, RW, 0), errno.PERM, "read-only preopen: create is EPERM");
  expectErrno(symlink("x", "link", RO), errno.PERM, "read-only preopen: symlink is EPERM");
  expectErrno(rename("ro.txt", "stolen", RO), errno.PERM, "rename out of a read-only preopen is EPERM");
}
