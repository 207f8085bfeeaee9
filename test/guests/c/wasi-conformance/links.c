// Symbolic and hard links: symlink and readlink, following or not (nofollow errors), dangling
// links, loops, trailing slashes, and hard links and where they may not go.
#include <string.h>
#include "conformance.h"

static __wasi_errno_t try_open(const char *path, __wasi_lookupflags_t lookup, __wasi_oflags_t oflags) {
  __wasi_fd_t fd;
  __wasi_errno_t e = open_at(SCRATCH, lookup, path, oflags, 0, 0, &fd);
  if (e == 0) (void)__wasi_fd_close(fd);
  return e;
}

static void test_symlinks(void) {
  const __wasi_lookupflags_t FOLLOW = __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;
  make_file("target", "linked");
  expect_errno(__wasi_path_symlink("target", SCRATCH, "link"), 0, "create a symlink");
  expect_errno(__wasi_path_symlink("target", SCRATCH, "link"), __WASI_ERRNO_EXIST, "create it again is EEXIST");
  char buf[16] = {0};
  __wasi_size_t n;
  check(__wasi_path_readlink(SCRATCH, "link", (uint8_t *)buf, sizeof buf, &n) == 0 && n == 6 && memcmp(buf, "target", 6) == 0 && buf[6] == 0, "readlink");
  memset(buf, 0, sizeof buf);
  check(__wasi_path_readlink(SCRATCH, "link", (uint8_t *)buf, 4, &n) == 0 && n == 4 && memcmp(buf, "targ", 4) == 0 && buf[4] == 0, "readlink into a short buffer truncates");
  expect_errno(__wasi_path_readlink(SCRATCH, "target", (uint8_t *)buf, sizeof buf, &n), __WASI_ERRNO_INVAL, "readlink of a file is EINVAL");
  expect_errno(try_open("link", FOLLOW, 0), 0, "open through a symlink");
  expect_errno(try_open("link", 0, 0), __WASI_ERRNO_LOOP, "open a symlink without following is ELOOP");
  __wasi_fd_t fd;
  __wasi_size_t got;
  char content[8] = {0};
  check(open_at(SCRATCH, FOLLOW, "link", 0, __WASI_RIGHTS_FD_READ, 0, &fd) == 0 && read_some(fd, content, 6, &got) == 0 && memcmp(content, "linked", 6) == 0, "read through a symlink");
  (void)__wasi_fd_close(fd);
  (void)__wasi_path_create_directory(SCRATCH, "tdir");
  expect_errno(__wasi_path_symlink("tdir", SCRATCH, "dlink"), 0, "a symlink to a directory");
  expect_errno(try_open("dlink", FOLLOW, __WASI_OFLAGS_DIRECTORY), 0, "open it as a directory, following");
  expect_either(try_open("dlink", 0, __WASI_OFLAGS_DIRECTORY), __WASI_ERRNO_LOOP, __WASI_ERRNO_NOTDIR, "open it as a directory without following is ELOOP");
  expect_errno(try_open("link", FOLLOW, __WASI_OFLAGS_DIRECTORY), __WASI_ERRNO_NOTDIR, "a symlink to a file as a directory is ENOTDIR");
  expect_errno(try_open("dlink/", 0, __WASI_OFLAGS_DIRECTORY), 0, "a trailing slash follows a symlink to a directory");
  // dangling links and loops
  expect_errno(__wasi_path_symlink("nowhere", SCRATCH, "dangling"), 0, "create a dangling symlink");
  expect_errno(try_open("dangling", 0, 0), __WASI_ERRNO_LOOP, "open a dangling symlink without following is ELOOP");
  expect_errno(try_open("dangling", FOLLOW, 0), __WASI_ERRNO_NOENT, "open a dangling symlink following is ENOENT");
  expect_errno(__wasi_path_symlink("loop", SCRATCH, "loop"), 0, "create a self-referencing symlink");
  expect_errno(try_open("loop", FOLLOW, 0), __WASI_ERRNO_LOOP, "open a symlink loop is ELOOP");
  (void)__wasi_path_symlink("loop-b", SCRATCH, "loop-a");
  (void)__wasi_path_symlink("loop-a", SCRATCH, "loop-b");
  __wasi_filestat_t st;
  expect_errno(__wasi_path_filestat_get(SCRATCH, FOLLOW, "loop-a", &st), __WASI_ERRNO_LOOP, "stat through a two-link loop is ELOOP");
  expect_errno(__wasi_path_filestat_get(SCRATCH, 0, "loop-a", &st), 0, "stat of a looping link itself");
  // trailing slashes on the new link's name
  expect_errno(__wasi_path_symlink("source", SCRATCH, "fresh/"), __WASI_ERRNO_NOENT, "symlink named with a trailing slash is ENOENT");
  expect_errno(__wasi_path_symlink("source", SCRATCH, "tdir/"), __WASI_ERRNO_EXIST, "symlink onto a directory with a trailing slash is EEXIST");
  expect_errno(__wasi_path_symlink("source", SCRATCH, "target/"), __WASI_ERRNO_NOTDIR, "symlink onto a file with a trailing slash is ENOTDIR");
  expect_errno(__wasi_path_symlink("/", SCRATCH, "root"), __WASI_ERRNO_PERM, "a symlink to an absolute path is refused");
  expect_errno(__wasi_path_symlink("../..", SCRATCH, "up"), 0, "a symlink pointing above may be made ...");
  expect_errno(try_open("up", FOLLOW, __WASI_OFLAGS_DIRECTORY), __WASI_ERRNO_PERM, "... but never followed there (EPERM)");
  expect_errno(__wasi_path_filestat_get(SCRATCH, 0, "up/x", &st), __WASI_ERRNO_PERM, "... not even in the middle of a path");
  const char *links[] = {"link", "dlink", "dangling", "loop", "loop-a", "loop-b", "up"};
  for (unsigned i = 0; i < sizeof links / sizeof *links; i++) (void)__wasi_path_unlink_file(SCRATCH, links[i]);
  expect_errno(__wasi_path_symlink("target", SCRATCH, "link"), 0, "unlink removed the links, not their targets");
  (void)__wasi_path_unlink_file(SCRATCH, "link");
  (void)__wasi_path_remove_directory(SCRATCH, "tdir");
}

static void test_hard_links(void) {
  __wasi_filestat_t a, b;
  expect_errno(__wasi_path_link(SCRATCH, 0, "target", SCRATCH, "hard"), 0, "a hard link");
  check(__wasi_path_filestat_get(SCRATCH, 0, "hard", &a) == 0 && __wasi_path_filestat_get(SCRATCH, 0, "target", &b) == 0 && a.ino == b.ino && a.nlink == 2, "both names are one file");
  expect_errno(__wasi_path_link(SCRATCH, 0, "target", SCRATCH, "hard"), __WASI_ERRNO_EXIST, "link onto an existing name is EEXIST");
  expect_errno(__wasi_path_link(SCRATCH, 0, "target", SCRATCH, "target"), __WASI_ERRNO_EXIST, "link onto itself is EEXIST");
  (void)__wasi_path_create_directory(SCRATCH, "ldir");
  expect_errno(__wasi_path_link(SCRATCH, 0, "target", SCRATCH, "ldir"), __WASI_ERRNO_EXIST, "link onto a directory is EEXIST");
  expect_errno(__wasi_path_link(SCRATCH, 0, "ldir", SCRATCH, "ldir2"), __WASI_ERRNO_PERM, "a hard link to a directory is EPERM");
  expect_errno(__wasi_path_link(SCRATCH, 0, "target", SCRATCH, "new/"), __WASI_ERRNO_NOENT, "a link named with a trailing slash is ENOENT");
  expect_errno(__wasi_path_link(SCRATCH, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "target", SCRATCH, "new"), __WASI_ERRNO_INVAL, "link following symlinks is EINVAL");
  (void)__wasi_path_symlink("nowhere", SCRATCH, "dangling");
  expect_errno(__wasi_path_link(SCRATCH, 0, "dangling", SCRATCH, "hard-dangling"), 0, "a hard link to a dangling symlink");
  expect_errno(__wasi_path_link(SCRATCH, 0, "target", SCRATCH, "dangling"), __WASI_ERRNO_EXIST, "link onto a dangling symlink is EEXIST");
  const char *names[] = {"hard", "dangling", "hard-dangling", "target"};
  for (unsigned i = 0; i < sizeof names / sizeof *names; i++) (void)__wasi_path_unlink_file(SCRATCH, names[i]);
  (void)__wasi_path_remove_directory(SCRATCH, "ldir");
}

void test_links(void) {
  test_symlinks();
  test_hard_links();
}
