// Files and directories through their descriptors: read/write, pread/pwrite, seek/tell, flags,
// rights, sizes, times, advise, allocate, sync, renumber, readdir, and what a directory refuses.
#include <stdio.h>
#include <string.h>
#include "conformance.h"

void test_files(void) {
  __wasi_fd_t fd, other;
  __wasi_size_t n;
  __wasi_filesize_t pos;
  char buf[128];
  expect_errno(open_at(SCRATCH, 0, "data", __WASI_OFLAGS_CREAT, RW, 0, &fd), 0, "create a file");
  check(fd > 4, "a new fd comes after the preopens");
  check(write_all(fd, "hello world", 11, &n) == 0 && n == 11, "write");
  check(__wasi_fd_tell(fd, &pos) == 0 && pos == 11, "tell after write");
  check(__wasi_fd_seek(fd, -5, __WASI_WHENCE_CUR, &pos) == 0 && pos == 6, "seek back from the cursor");
  check(read_some(fd, buf, sizeof buf, &n) == 0 && n == 5 && memcmp(buf, "world", 5) == 0, "read from the cursor");
  check(read_some(fd, buf, sizeof buf, &n) == 0 && n == 0, "read at end of file gives 0");
  check(__wasi_fd_seek(fd, 0, __WASI_WHENCE_END, &pos) == 0 && pos == 11, "seek to the end");
  check(__wasi_fd_seek(fd, 1000, __WASI_WHENCE_SET, &pos) == 0 && pos == 1000, "seek past the end");
  expect_errno(__wasi_fd_seek(fd, -2000, __WASI_WHENCE_CUR, &pos), __WASI_ERRNO_INVAL, "seek before 0 is EINVAL");
  expect_errno(__wasi_fd_seek(fd, 0, 7, &pos), __WASI_ERRNO_INVAL, "seek with a bad whence is EINVAL");
  __wasi_iovec_t iov = {.buf = (uint8_t *)buf, .buf_len = 5};
  check(__wasi_fd_pread(fd, &iov, 1, 0, &n) == 0 && n == 5 && memcmp(buf, "hello", 5) == 0, "pread");
  check(__wasi_fd_tell(fd, &pos) == 0 && pos == 1000, "pread leaves the cursor");
  __wasi_ciovec_t ciov = {.buf = (const uint8_t *)"HE", .buf_len = 2};
  check(__wasi_fd_pwrite(fd, &ciov, 1, 0, &n) == 0 && n == 2, "pwrite");
  check(__wasi_fd_pread(fd, &iov, 1, 0, &n) == 0 && memcmp(buf, "HEllo", 5) == 0, "pwrite wrote in place");
  __wasi_iovec_t two[2] = {{.buf = (uint8_t *)buf, .buf_len = 0}, {.buf = (uint8_t *)buf, .buf_len = 4}};
  check(__wasi_fd_pread(fd, two, 2, 0, &n) == 0 && n == 4, "read fills the first non-empty iovec");
  __wasi_filestat_t st;
  check(__wasi_fd_filestat_get(fd, &st) == 0 && st.size == 11 && st.filetype == __WASI_FILETYPE_REGULAR_FILE && st.nlink == 1, "filestat of a file");
  check(__wasi_fd_filestat_set_size(fd, 100) == 0 && __wasi_fd_filestat_get(fd, &st) == 0 && st.size == 100, "set_size grows a file");
  check(__wasi_fd_filestat_set_size(fd, 4) == 0 && __wasi_fd_filestat_get(fd, &st) == 0 && st.size == 4, "set_size shrinks a file");
  check(__wasi_fd_filestat_set_times(fd, 0, 1000000000ull * 1000000, __WASI_FSTFLAGS_MTIM) == 0 && __wasi_fd_filestat_get(fd, &st) == 0 && st.mtim == 1000000000ull * 1000000, "set the modification time");
  expect_errno(__wasi_fd_filestat_set_times(fd, 1, 1, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW), __WASI_ERRNO_INVAL, "ATIM with ATIM_NOW is EINVAL");
  expect_errno(__wasi_fd_advise(fd, 0, 4, __WASI_ADVICE_SEQUENTIAL), 0, "advise a file");
  expect_errno(__wasi_fd_advise(fd, 0, 4, 9), __WASI_ERRNO_INVAL, "advise with bad advice is EINVAL");
  expect_errno(__wasi_fd_allocate(fd, 0, 100), __WASI_ERRNO_NOTSUP, "allocate is ENOTSUP");
  expect_errno(__wasi_fd_datasync(fd), 0, "datasync a file");
  expect_errno(__wasi_fd_sync(fd), 0, "sync a file");
  expect_errno(__wasi_fd_fdstat_set_rights(fd, 0, 0), __WASI_ERRNO_NOTSUP, "fdstat_set_rights is ENOTSUP");
  expect_errno(__wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_DSYNC), __WASI_ERRNO_INVAL, "setting DSYNC is EINVAL");
  expect_errno(__wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND), 0, "set APPEND");
  check(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos) == 0 && write_all(fd, "++", 2, &n) == 0, "write in append mode");
  check(__wasi_fd_tell(fd, &pos) == 0 && pos == 6, "append moves the cursor to the end");
  check(__wasi_fd_pread(fd, &iov, 1, 0, &n) == 0 && n == 5 && memcmp(buf, "HEll+", 5) == 0, "append wrote at the end");
  __wasi_fdstat_t fst;
  check(__wasi_fd_fdstat_get(fd, &fst) == 0 && (fst.fs_flags & __WASI_FDFLAGS_APPEND) && fst.fs_filetype == __WASI_FILETYPE_REGULAR_FILE, "fdstat shows APPEND");
  check((fst.fs_rights_base & RW) == RW, "a read-write file has both rights");
  expect_errno(__wasi_fd_fdstat_set_flags(fd, 0), 0, "clear the flags");
  expect_errno(__wasi_fd_close(fd), 0, "close");
  expect_errno(__wasi_fd_close(fd), __WASI_ERRNO_BADF, "close twice is EBADF");
  // read-only and write-only descriptors
  expect_errno(open_at(SCRATCH, 0, "data", 0, __WASI_RIGHTS_FD_READ, 0, &fd), 0, "open read-only");
  check(__wasi_fd_fdstat_get(fd, &fst) == 0 && (fst.fs_rights_base & __WASI_RIGHTS_FD_WRITE) == 0 && (fst.fs_rights_base & __WASI_RIGHTS_FD_READ), "a read-only file has no write right");
  expect_errno(write_all(fd, "x", 1, &n), __WASI_ERRNO_BADF, "write to a read-only file is EBADF");
  expect_errno(__wasi_fd_filestat_set_size(fd, 1), __WASI_ERRNO_INVAL, "set_size of a read-only file is EINVAL");
  (void)__wasi_fd_close(fd);
  expect_errno(open_at(SCRATCH, 0, "data", 0, __WASI_RIGHTS_FD_WRITE, 0, &fd), 0, "open write-only");
  expect_errno(read_some(fd, buf, 4, &n), __WASI_ERRNO_BADF, "read from a write-only file is EBADF");
  (void)__wasi_fd_close(fd);
  expect_errno(open_at(SCRATCH, 0, "data", __WASI_OFLAGS_TRUNC, RW, __WASI_FDFLAGS_NONBLOCK, &fd), 0, "open with TRUNC");
  check(__wasi_fd_filestat_get(fd, &st) == 0 && st.size == 0, "TRUNC empties the file");
  check(__wasi_fd_fdstat_get(fd, &fst) == 0 && (fst.fs_flags & __WASI_FDFLAGS_NONBLOCK), "fdstat shows NONBLOCK");
  // renumber
  expect_errno(open_at(SCRATCH, 0, "other", __WASI_OFLAGS_CREAT, RW, 0, &other), 0, "create a second file");
  check(write_all(fd, "moved", 5, &n) == 0, "write before renumber");
  expect_errno(__wasi_fd_renumber(fd, other), 0, "renumber onto an open fd");
  expect_errno(__wasi_fd_close(fd), __WASI_ERRNO_BADF, "the renumbered fd is closed");
  check(__wasi_fd_tell(other, &pos) == 0 && pos == 5, "the target fd now is the moved file, cursor and all");
  expect_errno(__wasi_fd_renumber(other, 200), __WASI_ERRNO_BADF, "renumber onto an unused fd is EBADF");
  expect_errno(__wasi_fd_renumber(other, other), 0, "renumber onto itself");
  expect_errno(__wasi_fd_renumber(300, other), __WASI_ERRNO_BADF, "renumber from an unused fd is EBADF");
  (void)__wasi_fd_close(other);
  expect_errno(open_at(SCRATCH, 0, "data", 0, 0, 0, &fd), 0, "reopen");
  check(fd == other, "a freed fd number is used again");
  (void)__wasi_fd_close(fd);
}

void test_directories(void) {
  __wasi_fd_t dir;
  __wasi_size_t n;
  __wasi_filesize_t pos;
  char buf[256];
  expect_errno(__wasi_path_create_directory(SCRATCH, "dir"), 0, "create a directory");
  expect_errno(__wasi_path_create_directory(SCRATCH, "dir"), __WASI_ERRNO_EXIST, "create it again is EEXIST");
  make_file("dir/a", "A");
  make_file("dir/b", NULL);
  expect_errno(open_at(SCRATCH, 0, "dir", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READDIR, 0, &dir), 0, "open a directory");
  __wasi_filestat_t st;
  check(__wasi_fd_filestat_get(dir, &st) == 0 && st.filetype == __WASI_FILETYPE_DIRECTORY, "filestat of a directory");
  __wasi_iovec_t iov = {.buf = (uint8_t *)buf, .buf_len = 8};
  __wasi_ciovec_t ciov = {.buf = (const uint8_t *)"x", .buf_len = 1};
  expect_errno(__wasi_fd_read(dir, &iov, 1, &n), __WASI_ERRNO_BADF, "read a directory is EBADF");
  expect_errno(__wasi_fd_pread(dir, &iov, 1, 0, &n), __WASI_ERRNO_BADF, "pread a directory is EBADF");
  expect_errno(__wasi_fd_write(dir, &ciov, 1, &n), __WASI_ERRNO_BADF, "write a directory is EBADF");
  expect_errno(__wasi_fd_seek(dir, 0, __WASI_WHENCE_CUR, &pos), __WASI_ERRNO_BADF, "seek a directory is EBADF");
  expect_errno(__wasi_fd_tell(dir, &pos), __WASI_ERRNO_BADF, "tell a directory is EBADF");
  expect_errno(__wasi_fd_advise(dir, 0, 0, __WASI_ADVICE_DONTNEED), __WASI_ERRNO_BADF, "advise a directory is EBADF");
  expect_errno(__wasi_fd_allocate(dir, 0, 1), __WASI_ERRNO_BADF, "allocate a directory is EBADF");
  expect_errno(__wasi_fd_datasync(dir), __WASI_ERRNO_BADF, "datasync a directory is EBADF");
  expect_errno(__wasi_fd_sync(dir), __WASI_ERRNO_BADF, "sync a directory is EBADF");
  expect_errno(__wasi_fd_fdstat_set_flags(dir, __WASI_FDFLAGS_NONBLOCK), __WASI_ERRNO_BADF, "set flags of a directory is EBADF");
  expect_errno(__wasi_fd_filestat_set_size(dir, 0), __WASI_ERRNO_BADF, "set_size of a directory is EBADF");
  // readdir: ".", "..", then the entries; cookies continue where a full buffer stopped
  check(__wasi_fd_readdir(dir, (uint8_t *)buf, sizeof buf, 0, &n) == 0 && n == 4 * 24 + 1 + 2 + 1 + 1, "readdir lists ., .. and two entries");
  int dot = 0, dotdot = 0, a = 0, b = 0;
  for (size_t at = 0; at + 24 <= n;) {
    __wasi_dirent_t *d = (__wasi_dirent_t *)(buf + at);
    const char *name = buf + at + 24;
    if (d->d_namlen == 1 && name[0] == '.') dot = d->d_type == __WASI_FILETYPE_DIRECTORY;
    if (d->d_namlen == 2 && memcmp(name, "..", 2) == 0) dotdot = 1;
    if (d->d_namlen == 1 && name[0] == 'a') a = d->d_type == __WASI_FILETYPE_REGULAR_FILE && d->d_next >= 3;
    if (d->d_namlen == 1 && name[0] == 'b') b = 1;
    at += 24 + d->d_namlen;
  }
  check(dot && dotdot && a && b, "readdir entries have names, types and cookies");
  check(__wasi_fd_readdir(dir, (uint8_t *)buf, 30, 0, &n) == 0 && n == 30, "readdir fills a small buffer");
  check(__wasi_fd_readdir(dir, (uint8_t *)buf, sizeof buf, 2, &n) == 0 && n == 2 * 24 + 2, "readdir from cookie 2 skips . and ..");
  check(__wasi_fd_readdir(dir, (uint8_t *)buf, sizeof buf, 4, &n) == 0 && n == 0, "readdir past the last entry is empty");
  check(__wasi_fd_readdir(SCRATCH, (uint8_t *)buf, sizeof buf, 0, &n) == 0 && n >= 2 * 24 + 3, "readdir of a preopen");
  __wasi_fd_t file;
  (void)open_at(SCRATCH, 0, "dir/a", 0, __WASI_RIGHTS_FD_READ, 0, &file);
  expect_either(__wasi_fd_readdir(file, (uint8_t *)buf, sizeof buf, 0, &n), __WASI_ERRNO_BADF, __WASI_ERRNO_NOTDIR, "readdir of a file is EBADF (ENOTDIR through the adapter)");
  expect_errno(open_at(file, 0, "x", __WASI_OFLAGS_CREAT, RW, 0, &dir), __WASI_ERRNO_NOTDIR, "a file as base fd is ENOTDIR");
  (void)__wasi_fd_close(file);
  __wasi_fd_t moved;
  expect_errno(open_at(SCRATCH, 0, "dir", __WASI_OFLAGS_DIRECTORY, 0, 0, &moved), 0, "open the directory again");
  expect_errno(__wasi_path_rename(SCRATCH, "dir", SCRATCH, "dir2"), 0, "rename an open directory");
  expect_errno(open_at(moved, 0, "a", 0, __WASI_RIGHTS_FD_READ, 0, &file), 0, "an open directory follows its renames");
  (void)__wasi_fd_close(file);
  (void)__wasi_fd_close(moved);
  (void)__wasi_fd_close(dir);
  expect_errno(__wasi_path_remove_directory(SCRATCH, "dir2"), __WASI_ERRNO_NOTEMPTY, "remove a non-empty directory is ENOTEMPTY");
  expect_errno(__wasi_path_unlink_file(SCRATCH, "dir2/a"), 0, "unlink a file");
  expect_errno(__wasi_path_unlink_file(SCRATCH, "dir2/b"), 0, "unlink another");
  expect_errno(__wasi_path_remove_directory(SCRATCH, "dir2/"), 0, "remove a directory with a trailing slash");
}
