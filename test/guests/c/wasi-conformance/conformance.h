// The checking harness shared by the wasi-conformance sources.
#ifndef CONFORMANCE_H
#define CONFORMANCE_H
#include <stdint.h>
#include <wasi/api.h>

#define SCRATCH 3
#define RO 4
#define RW (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE)

void check(int ok, const char *what);
void report(int ok, const char *what, const char *detail);
/** A call's errno against the one wasmtime gives (0: success). */
void expect_errno(__wasi_errno_t got, __wasi_errno_t want, const char *what);
/** Either errno (where wasmtime's own tests accept both, e.g. its p1 and its p2-with-adapter differ). */
void expect_either(__wasi_errno_t got, __wasi_errno_t want, __wasi_errno_t or_want, const char *what);
__wasi_errno_t open_at(__wasi_fd_t dir, __wasi_lookupflags_t lookup, const char *path, __wasi_oflags_t oflags,
                       __wasi_rights_t rights, __wasi_fdflags_t fdflags, __wasi_fd_t *fd);
__wasi_errno_t write_all(__wasi_fd_t fd, const void *data, unsigned long length, __wasi_size_t *written);
__wasi_errno_t read_some(__wasi_fd_t fd, void *data, unsigned long length, __wasi_size_t *read);
/** Creates (or truncates) a file in the scratch directory, with `text` when given. */
void make_file(const char *path, const char *text);

/** path_open with an explicit length (wasi-libc's wrapper stops at the first NUL). */
int32_t raw_path_open(int32_t fd, int32_t dirflags, int32_t path, int32_t path_len, int32_t oflags, int64_t base,
                      int64_t inheriting, int32_t fdflags, int32_t out)
    __attribute__((__import_module__("wasi_snapshot_preview1"), __import_name__("path_open")));

void test_files(void);
void test_directories(void);
void test_paths(void);
void test_links(void);
void test_read_only(void);
#endif
