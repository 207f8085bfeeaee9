// The checking harness: numbered TAP-like lines, one per check.
#include <stdio.h>
#include <string.h>
#include "conformance.h"

int checks, failures;

void report(int ok, const char *what, const char *detail) {
  checks++;
  if (!ok) failures++;
  printf("%sok %d - %s%s%s\n", ok ? "" : "not ", checks, what, ok || !detail ? "" : ": ", ok || !detail ? "" : detail);
}

void check(int ok, const char *what) { report(ok, what, NULL); }

void expect_errno(__wasi_errno_t got, __wasi_errno_t want, const char *what) {
  char detail[64];
  snprintf(detail, sizeof detail, "errno %u, want %u", got, want);
  report(got == want, what, detail);
}

void expect_either(__wasi_errno_t got, __wasi_errno_t want, __wasi_errno_t or_want, const char *what) {
  char detail[64];
  snprintf(detail, sizeof detail, "errno %u, want %u or %u", got, want, or_want);
  report(got == want || got == or_want, what, detail);
}

__wasi_errno_t open_at(__wasi_fd_t dir, __wasi_lookupflags_t lookup, const char *path, __wasi_oflags_t oflags,
                       __wasi_rights_t rights, __wasi_fdflags_t fdflags, __wasi_fd_t *fd) {
  return __wasi_path_open(dir, lookup, path, oflags, rights, rights, fdflags, fd);
}

__wasi_errno_t write_all(__wasi_fd_t fd, const void *data, unsigned long length, __wasi_size_t *written) {
  __wasi_ciovec_t iov = {.buf = data, .buf_len = length};
  return __wasi_fd_write(fd, &iov, 1, written);
}

__wasi_errno_t read_some(__wasi_fd_t fd, void *data, unsigned long length, __wasi_size_t *read) {
  __wasi_iovec_t iov = {.buf = data, .buf_len = length};
  return __wasi_fd_read(fd, &iov, 1, read);
}

void make_file(const char *path, const char *text) {
  __wasi_fd_t fd;
  __wasi_size_t n;
  if (open_at(SCRATCH, 0, path, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, RW, 0, &fd) != 0) return;
  if (text) (void)write_all(fd, text, strlen(text), &n);
  (void)__wasi_fd_close(fd);
}
