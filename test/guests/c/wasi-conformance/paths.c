// Paths below a directory: path_open flags, interesting paths, rename, unlink and rmdir (trailing
// slashes included), filestat with and without following symlinks.
#include <string.h>
#include "conformance.h"

static __wasi_errno_t open_raw(const char *path, unsigned length) {
  __wasi_fd_t fd;
  __wasi_errno_t e = (__wasi_errno_t)raw_path_open(SCRATCH, 0, (int32_t)(uintptr_t)path, (int32_t)length, 0, 0, 0, 0, (int32_t)(uintptr_t)&fd);
  if (e == 0) (void)__wasi_fd_close(fd);
  return e;
}

static __wasi_errno_t try_open(const char *path, __wasi_lookupflags_t lookup, __wasi_oflags_t oflags, __wasi_rights_t rights) {
  __wasi_fd_t fd;
  __wasi_errno_t e = open_at(SCRATCH, lookup, path, oflags, rights, 0, &fd);
  if (e == 0) (void)__wasi_fd_close(fd);
  return e;
}

void test_paths(void) {
  const __wasi_lookupflags_t FOLLOW = __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;
  expect_errno(try_open("missing", 0, 0, 0), __WASI_ERRNO_NOENT, "open a missing file is ENOENT");
  make_file("file", "content");
  expect_errno(try_open("file", 0, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, RW), __WASI_ERRNO_EXIST, "CREAT|EXCL on an existing file is EEXIST");
  expect_errno(try_open("file", 0, __WASI_OFLAGS_CREAT, RW), 0, "CREAT on an existing file opens it");
  expect_errno(try_open("file", 0, __WASI_OFLAGS_DIRECTORY, 0), __WASI_ERRNO_NOTDIR, "DIRECTORY on a file is ENOTDIR");
  expect_errno(try_open("new", 0, __WASI_OFLAGS_DIRECTORY | __WASI_OFLAGS_CREAT, 0), __WASI_ERRNO_INVAL, "DIRECTORY|CREAT is EINVAL");
  expect_errno(try_open("file/", 0, 0, 0), __WASI_ERRNO_NOTDIR, "a file with a trailing slash is ENOTDIR");
  expect_errno(try_open("file///", 0, 0, 0), __WASI_ERRNO_NOTDIR, "a file with trailing slashes is ENOTDIR");
  expect_errno(try_open("/file", 0, 0, 0), __WASI_ERRNO_PERM, "an absolute path is EPERM");
  expect_errno(try_open("../file", 0, 0, 0), __WASI_ERRNO_PERM, ".. above the directory is EPERM");
  expect_errno(open_raw("file\0", 5), __WASI_ERRNO_INVAL, "a NUL in the path is EINVAL");
  expect_errno(open_raw("", 0), __WASI_ERRNO_NOENT, "an empty path is ENOENT");
  (void)__wasi_path_create_directory(SCRATCH, "sub");
  (void)__wasi_path_create_directory(SCRATCH, "sub/deeper");
  make_file("sub/deeper/f", NULL);
  expect_errno(try_open("sub/.//deeper/../../sub/deeper/../deeper///./f", 0, 0, 0), 0, "a path with . and .. inside it");
  expect_errno(try_open("sub/deeper/", 0, 0, 0), 0, "a directory with a trailing slash");
  expect_errno(try_open(".", 0, __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READ), 0, "open . as a directory");
  expect_errno(try_open(".", 0, __WASI_OFLAGS_DIRECTORY, RW), __WASI_ERRNO_ISDIR, "open a directory for writing is EISDIR");
  expect_errno(try_open("sub", 0, __WASI_OFLAGS_TRUNC, RW), __WASI_ERRNO_ISDIR, "TRUNC on a directory is EISDIR");
  __wasi_fd_t sub;
  expect_errno(open_at(SCRATCH, 0, "sub", __WASI_OFLAGS_DIRECTORY, 0, 0, &sub), 0, "open a subdirectory");
  __wasi_fd_t f;
  expect_errno(open_at(sub, 0, "../file", 0, 0, 0, &f), __WASI_ERRNO_PERM, ".. above an opened subdirectory is EPERM");
  (void)__wasi_fd_close(sub);
  // rename
  expect_errno(__wasi_path_rename(SCRATCH, "file", SCRATCH, "renamed"), 0, "rename a file");
  expect_errno(try_open("file", 0, 0, 0), __WASI_ERRNO_NOENT, "the old name is gone");
  make_file("other", NULL);
  expect_errno(__wasi_path_rename(SCRATCH, "renamed", SCRATCH, "other"), 0, "rename onto an existing file replaces it");
  __wasi_filestat_t st;
  check(__wasi_path_filestat_get(SCRATCH, 0, "other", &st) == 0 && st.size == 7, "the replacement has the moved content");
  expect_errno(__wasi_path_rename(SCRATCH, "other", SCRATCH, "sub"), __WASI_ERRNO_ISDIR, "rename a file onto a directory is EISDIR");
  (void)__wasi_path_create_directory(SCRATCH, "d1");
  (void)__wasi_path_create_directory(SCRATCH, "d2");
  expect_errno(__wasi_path_rename(SCRATCH, "d1", SCRATCH, "d2"), 0, "rename a directory onto an empty one");
  expect_errno(__wasi_path_rename(SCRATCH, "d2", SCRATCH, "sub"), __WASI_ERRNO_NOTEMPTY, "rename onto a non-empty directory is ENOTEMPTY");
  expect_errno(__wasi_path_rename(SCRATCH, "d2", SCRATCH, "other"), __WASI_ERRNO_NOTDIR, "rename a directory onto a file is ENOTDIR");
  expect_errno(__wasi_path_rename(SCRATCH, "d2/", SCRATCH, "d3"), 0, "rename with a trailing slash on the source");
  expect_errno(__wasi_path_rename(SCRATCH, "d3", SCRATCH, "d4/"), 0, "rename with a trailing slash on the target");
  expect_errno(__wasi_path_rename(SCRATCH, "missing", SCRATCH, "x"), __WASI_ERRNO_NOENT, "rename a missing file is ENOENT");
  // unlink and rmdir, trailing slashes
  expect_errno(__wasi_path_unlink_file(SCRATCH, "d4"), __WASI_ERRNO_ISDIR, "unlink a directory is EISDIR");
  expect_errno(__wasi_path_unlink_file(SCRATCH, "d4/"), __WASI_ERRNO_ISDIR, "unlink a directory with a trailing slash is EISDIR");
  expect_errno(__wasi_path_unlink_file(SCRATCH, "other/"), __WASI_ERRNO_NOTDIR, "unlink a file with a trailing slash is ENOTDIR");
  expect_errno(__wasi_path_remove_directory(SCRATCH, "other"), __WASI_ERRNO_NOTDIR, "rmdir a file is ENOTDIR");
  expect_errno(__wasi_path_remove_directory(SCRATCH, "other/"), __WASI_ERRNO_NOTDIR, "rmdir a file with a trailing slash is ENOTDIR");
  expect_errno(__wasi_path_remove_directory(SCRATCH, "missing"), __WASI_ERRNO_NOENT, "rmdir a missing directory is ENOENT");
  expect_errno(__wasi_path_unlink_file(SCRATCH, "other"), 0, "unlink a file");
  expect_errno(__wasi_path_remove_directory(SCRATCH, "d4"), 0, "rmdir a directory");
  // filestat, following or not
  (void)__wasi_path_symlink("sub", SCRATCH, "to-sub");
  check(__wasi_path_filestat_get(SCRATCH, 0, "to-sub", &st) == 0 && st.filetype == __WASI_FILETYPE_SYMBOLIC_LINK, "filestat of a symlink");
  check(__wasi_path_filestat_get(SCRATCH, FOLLOW, "to-sub", &st) == 0 && st.filetype == __WASI_FILETYPE_DIRECTORY, "filestat through a symlink");
  check(__wasi_path_filestat_get(SCRATCH, 0, "to-sub/deeper/f", &st) == 0 && st.filetype == __WASI_FILETYPE_REGULAR_FILE, "a symlink in the middle of a path is followed");
  expect_errno(__wasi_path_filestat_get(SCRATCH, 0, "missing", &st), __WASI_ERRNO_NOENT, "filestat of a missing path is ENOENT");
  check(__wasi_path_filestat_set_times(SCRATCH, 0, "sub", 0, 5000000000ull, __WASI_FSTFLAGS_MTIM) == 0 && __wasi_path_filestat_get(SCRATCH, 0, "sub", &st) == 0 && st.mtim == 5000000000ull, "set times by path");
  (void)__wasi_path_unlink_file(SCRATCH, "to-sub");
}

void test_read_only(void) {
  __wasi_fd_t fd;
  __wasi_size_t n;
  char buf[64] = {0};
  expect_errno(open_at(RO, 0, "ro.txt", 0, __WASI_RIGHTS_FD_READ, 0, &fd), 0, "read-only preopen: open for reading");
  check(read_some(fd, buf, sizeof buf, &n) == 0 && n == 20 && memcmp(buf, "read only test file\n", 20) == 0, "read-only preopen: read");
  expect_either(write_all(fd, "x", 1, &n), __WASI_ERRNO_BADF, __WASI_ERRNO_PERM, "read-only preopen: write is EBADF (EPERM through the adapter)");
  (void)__wasi_fd_close(fd);
  expect_errno(open_at(RO, 0, "ro.txt", __WASI_OFLAGS_TRUNC, __WASI_RIGHTS_FD_READ, 0, &fd), __WASI_ERRNO_PERM, "read-only preopen: TRUNC is EPERM");
  expect_errno(open_at(RO, 0, "new", __WASI_OFLAGS_CREAT, RW, 0, &fd), __WASI_ERRNO_PERM, "read-only preopen: create is EPERM");
  expect_errno(__wasi_path_create_directory(RO, "d"), __WASI_ERRNO_PERM, "read-only preopen: mkdir is EPERM");
  expect_errno(__wasi_path_unlink_file(RO, "ro.txt"), __WASI_ERRNO_PERM, "read-only preopen: unlink is EPERM");
  expect_errno(__wasi_path_rename(RO, "ro.txt", SCRATCH, "stolen"), __WASI_ERRNO_PERM, "rename out of a read-only preopen is EPERM");
  expect_errno(__wasi_path_link(RO, 0, "ro.txt", SCRATCH, "linked"), __WASI_ERRNO_PERM, "link out of a read-only preopen is EPERM");
  expect_errno(__wasi_path_symlink("x", RO, "link"), __WASI_ERRNO_PERM, "read-only preopen: symlink is EPERM");
  __wasi_filestat_t st;
  check(__wasi_path_filestat_get(RO, 0, "ro.txt", &st) == 0 && st.size == 20, "read-only preopen: filestat");
}
