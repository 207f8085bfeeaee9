// wasi-conformance (C, wasi-libc): checks WASI preview 1 calls and their errno values against what
// wasmtime gives on Linux. Prints `ok N - what` / `not ok N - what: detail` lines, then
// `# N checks, M failed`, and exits 0 only if every check passed.
// It expects what test/runtime/wasi-conformance.test.ts gives it (and says so when it is missing):
//   argv    [argv0, "alpha", "beta gamma", "", "δέλτα"]
//   env     CONF_ONE=1 CONF_TWO="two words" CONF_EMPTY= CONF_UNICODE=ünïcödé
//   stdin   what $CONF_STDIN says (empty in a pod, where the variable is unset)
//   fd 3    /scratch: an empty read-write directory; fd 4: /ro, read-only, holding ro.txt
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "conformance.h"

extern int checks, failures;

static void test_args_env_stdio(int argc, char **argv) {
  check(argc == 5, "argc counts every argument, empty ones included");
  check(argc > 1 && strcmp(argv[1], "alpha") == 0, "argv[1]");
  check(argc > 2 && strcmp(argv[2], "beta gamma") == 0, "an argument with a space");
  check(argc > 3 && strcmp(argv[3], "") == 0, "an empty argument");
  check(argc > 4 && strcmp(argv[4], "δέλτα") == 0, "a UTF-8 argument");
  const char *one = getenv("CONF_ONE"), *two = getenv("CONF_TWO"), *empty = getenv("CONF_EMPTY"), *uni = getenv("CONF_UNICODE");
  check(one && strcmp(one, "1") == 0, "environment variable");
  check(two && strcmp(two, "two words") == 0, "environment variable with a space");
  check(empty && strcmp(empty, "") == 0, "empty environment variable is set");
  check(uni && strcmp(uni, "ünïcödé") == 0, "UTF-8 environment variable");
  check(getenv("CONF_MISSING") == NULL, "unset variable is absent");
  __wasi_size_t count, size;
  check(__wasi_args_sizes_get(&count, &size) == 0 && count == 5 && size == strlen(argv[0]) + 1 + 6 + 11 + 1 + 11, "args_sizes_get");
  // stdin holds $CONF_STDIN (a pod's stdin is empty: then so is the variable)
  const char *want = getenv("CONF_STDIN");
  char input[256] = {0};
  size_t got = fread(input, 1, sizeof input - 1, stdin);
  check(got == strlen(want ? want : "") && memcmp(input, want ? want : "", got) == 0, "stdin read to the end");
  check(feof(stdin), "stdin end of file");
  __wasi_size_t n;
  expect_errno(write_all(2, "stderr works\n", 13, &n), 0, "write to stderr");
  expect_errno(write_all(77, "x", 1, &n), __WASI_ERRNO_BADF, "write to an invalid fd is EBADF");
  expect_errno(__wasi_fd_close(77), __WASI_ERRNO_BADF, "close of an invalid fd is EBADF");
  check(!isatty(0) && !isatty(1) && !isatty(2), "stdio is not a terminal");
  __wasi_fdstat_t stat;
  check(__wasi_fd_fdstat_get(1, &stat) == 0 && stat.fs_filetype == __WASI_FILETYPE_UNKNOWN && stat.fs_rights_base == __WASI_RIGHTS_FD_WRITE, "stdout fdstat");
  check(__wasi_fd_fdstat_get(0, &stat) == 0 && stat.fs_rights_base == __WASI_RIGHTS_FD_READ, "stdin fdstat");
  __wasi_filesize_t pos;
  expect_errno(__wasi_fd_seek(1, 0, __WASI_WHENCE_CUR, &pos), __WASI_ERRNO_SPIPE, "seek on stdout is ESPIPE");
  expect_errno(__wasi_fd_tell(0, &pos), __WASI_ERRNO_SPIPE, "tell on stdin is ESPIPE");
  __wasi_ciovec_t iov = {.buf = (const uint8_t *)"x", .buf_len = 1};
  expect_errno(__wasi_fd_pwrite(1, &iov, 1, 0, &n), __WASI_ERRNO_SPIPE, "pwrite on stdout is ESPIPE");
  __wasi_filestat_t fst;
  check(__wasi_fd_filestat_get(1, &fst) == 0 && fst.size == 0 && fst.filetype == __WASI_FILETYPE_UNKNOWN, "stdout filestat is all zero");
}

static void test_clocks_random_poll(void) {
  __wasi_timestamp_t a, b, res;
  check(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &a) == 0 && a > 1600000000ull * 1000000000ull, "realtime clock is now");
  check(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &a) == 0 && __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &b) == 0 && b >= a, "monotonic clock never goes back");
  check(__wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &res) == 0 && res > 0, "monotonic resolution");
  check(__wasi_clock_res_get(__WASI_CLOCKID_REALTIME, &res) == 0 && res > 0, "realtime resolution");
  expect_errno(__wasi_clock_time_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, 1, &a), __WASI_ERRNO_BADF, "process cputime clock is EBADF");
  uint8_t bytes[64] = {0};
  int nonzero = 0;
  check(__wasi_random_get(bytes, sizeof bytes) == 0, "random_get");
  for (size_t i = 0; i < sizeof bytes; i++) nonzero |= bytes[i];
  check(nonzero, "random bytes are not all zero");
  expect_errno(__wasi_sched_yield(), 0, "sched_yield");
  // a 20 ms relative sleep through poll_oneoff
  __wasi_subscription_t sub = {.userdata = 42, .u = {.tag = __WASI_EVENTTYPE_CLOCK, .u.clock = {.id = __WASI_CLOCKID_MONOTONIC, .timeout = 20000000}}};
  __wasi_event_t event;
  __wasi_size_t count = 0;
  (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &a);
  check(__wasi_poll_oneoff(&sub, &event, 1, &count) == 0 && count == 1 && event.userdata == 42 && event.type == __WASI_EVENTTYPE_CLOCK && event.error == 0, "poll_oneoff clock event");
  (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &b);
  check(b - a >= 20000000, "poll_oneoff slept for its timeout");
  expect_errno(__wasi_poll_oneoff(&sub, &event, 0, &count), __WASI_ERRNO_INVAL, "poll_oneoff without subscriptions is EINVAL");
  __wasi_subscription_t subs[2] = {
      {.userdata = 1, .u = {.tag = __WASI_EVENTTYPE_CLOCK, .u.clock = {.id = __WASI_CLOCKID_MONOTONIC, .timeout = 5000000000ull}}},
      {.userdata = 2, .u = {.tag = __WASI_EVENTTYPE_FD_WRITE, .u.fd_write = {.file_descriptor = 1}}},
  };
  __wasi_event_t events[2];
  check(__wasi_poll_oneoff(subs, events, 2, &count) == 0 && count == 1 && events[0].userdata == 2 && events[0].type == __WASI_EVENTTYPE_FD_WRITE, "poll_oneoff: stdout is writable at once");
  sub.u.u.fd_read.file_descriptor = 99;
  sub.u.tag = __WASI_EVENTTYPE_FD_READ;
  expect_errno(__wasi_poll_oneoff(&sub, &event, 1, &count), __WASI_ERRNO_BADF, "poll_oneoff on an invalid fd is EBADF");
}

static void test_prestat(void) {
  __wasi_prestat_t prestat;
  char name[32] = {0};
  check(__wasi_fd_prestat_get(SCRATCH, &prestat) == 0 && prestat.tag == __WASI_PREOPENTYPE_DIR && prestat.u.dir.pr_name_len == 8, "prestat of the first preopen");
  check(__wasi_fd_prestat_dir_name(SCRATCH, (uint8_t *)name, 8) == 0 && memcmp(name, "/scratch", 8) == 0, "preopen name");
  expect_errno(__wasi_fd_prestat_dir_name(SCRATCH, (uint8_t *)name, 3), __WASI_ERRNO_NAMETOOLONG, "preopen name into a short buffer");
  expect_errno(__wasi_fd_prestat_get(0, &prestat), __WASI_ERRNO_BADF, "prestat of stdin is EBADF");
  expect_errno(__wasi_fd_prestat_get(99, &prestat), __WASI_ERRNO_BADF, "prestat of an invalid fd is EBADF");
  __wasi_fdstat_t stat;
  check(__wasi_fd_fdstat_get(SCRATCH, &stat) == 0 && stat.fs_filetype == __WASI_FILETYPE_DIRECTORY && (stat.fs_rights_base & __WASI_RIGHTS_PATH_OPEN) && (stat.fs_rights_inheriting & __WASI_RIGHTS_FD_WRITE), "preopen rights");
}

int main(int argc, char **argv) {
  test_args_env_stdio(argc, argv);
  test_clocks_random_poll();
  test_prestat();
  test_files();
  test_directories();
  test_paths();
  test_links();
  test_read_only();
  printf("# %d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
