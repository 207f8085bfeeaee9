// WASI 0.2.12 TCP for C examples: Debian's 2022 wasi-libc has no WASI 0.2 sockets, so the
// canonical ABI imports (wasi:sockets, wasi:io) are written out by hand here, with small helpers.
// Results come back in `ret`: a discriminant byte at 0, the payload at 4 (8 for u64 payloads).
#ifndef SKIFF_WASI_TCP_H
#define SKIFF_WASI_TCP_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SOCKETS(iface) "wasi:sockets/" iface "@0.2.12"
#define IO(iface) "wasi:io/" iface "@0.2.12"
#define IMPORT(module, name) __attribute__((import_module(module), import_name(name)))

typedef int32_t handle;

IMPORT(SOCKETS("instance-network"), "instance-network") handle instance_network(void);
IMPORT(SOCKETS("tcp-create-socket"), "create-tcp-socket") void create_tcp_socket(int32_t family, void *ret);
// ip-socket-address flattened: discriminant, then 11 joined values (ipv4: port, 4 address bytes)
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.start-bind")
void tcp_start_bind(handle self, handle network, int32_t tag, int32_t port, int32_t a, int32_t b, int32_t c, int32_t d,
                    int32_t e, int32_t f, int32_t g, int32_t h, int32_t i, int32_t j, void *ret);
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.start-connect")
void tcp_start_connect(handle self, handle network, int32_t tag, int32_t port, int32_t a, int32_t b, int32_t c, int32_t d,
                       int32_t e, int32_t f, int32_t g, int32_t h, int32_t i, int32_t j, void *ret);
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.finish-bind") void tcp_finish_bind(handle self, void *ret);
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.finish-connect") void tcp_finish_connect(handle self, void *ret);
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.start-listen") void tcp_start_listen(handle self, void *ret);
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.finish-listen") void tcp_finish_listen(handle self, void *ret);
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.local-address") void tcp_local_address(handle self, void *ret);
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.accept") void tcp_accept(handle self, void *ret);
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.shutdown") void tcp_shutdown(handle self, int32_t how, void *ret);
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.subscribe") handle tcp_subscribe(handle self);
IMPORT(SOCKETS("tcp"), "[resource-drop]tcp-socket") void tcp_drop(handle self);
IMPORT(SOCKETS("ip-name-lookup"), "resolve-addresses") void resolve_addresses(handle network, const char *name, size_t len, void *ret);
IMPORT(SOCKETS("ip-name-lookup"), "[method]resolve-address-stream.resolve-next-address") void resolve_next(handle self, void *ret);
IMPORT(SOCKETS("ip-name-lookup"), "[resource-drop]resolve-address-stream") void resolve_stream_drop(handle self);
IMPORT(IO("poll"), "[method]pollable.block") void pollable_block(handle self);
IMPORT(IO("poll"), "[resource-drop]pollable") void pollable_drop(handle self);
IMPORT(IO("poll"), "poll") void poll_list(const handle *pollables, size_t len, void *ret);
IMPORT(IO("streams"), "[method]input-stream.read") void input_read(handle self, int64_t len, void *ret);
IMPORT(IO("streams"), "[method]input-stream.blocking-read") void input_blocking_read(handle self, int64_t len, void *ret);
IMPORT(IO("streams"), "[method]input-stream.subscribe") handle input_subscribe(handle self);
IMPORT(IO("streams"), "[resource-drop]input-stream") void input_stream_drop(handle self);
IMPORT(IO("streams"), "[method]output-stream.check-write") void output_check_write(handle self, void *ret);
IMPORT(IO("streams"), "[method]output-stream.write") void output_write(handle self, const uint8_t *bytes, size_t len, void *ret);
IMPORT(IO("streams"), "[method]output-stream.subscribe") handle output_subscribe(handle self);
IMPORT(IO("streams"), "[resource-drop]output-stream") void output_stream_drop(handle self);
IMPORT(IO("error"), "[resource-drop]error") void io_error_drop(handle self);

enum { IPV4 = 0, ERROR_WOULD_BLOCK = 8, SHUTDOWN_RECEIVE = 0, SHUTDOWN_SEND = 1, SHUTDOWN_BOTH = 2 };

static const char *const ERROR_CODES[] = {
  "unknown", "access-denied", "not-supported", "invalid-argument", "out-of-memory", "timeout",
  "concurrency-conflict", "not-in-progress", "would-block", "invalid-state", "new-socket-limit",
  "address-not-bindable", "address-in-use", "remote-unreachable", "connection-refused",
  "connection-reset", "connection-aborted", "datagram-too-large", "name-unresolvable",
  "temporary-resolver-failure", "permanent-resolver-failure",
};

static inline const char *error_name(uint8_t code) {
  return code < sizeof ERROR_CODES / sizeof *ERROR_CODES ? ERROR_CODES[code] : "?";
}

static _Alignas(8) uint8_t ret[48];

// start-/finish- pairs: finish may answer would-block until the socket's pollable is ready.
// `at` is where the error code is (1 for result<_, error-code>, 4 when the ok case has handles).
// Returns 0, or the error code + 1.
static inline int tcp_finish(handle socket, void (*finish_op)(handle, void *), int at) {
  for (;;) {
    finish_op(socket, ret);
    if (ret[0] == 0) return 0;
    if (ret[at] != ERROR_WOULD_BLOCK) return ret[at] + 1;
    handle ready = tcp_subscribe(socket);
    pollable_block(ready);
    pollable_drop(ready);
  }
}

enum { STREAM_OK = 0, STREAM_EMPTY = 1, STREAM_CLOSED = 2, STREAM_FAILED = 3 };

// A non-blocking (or blocking) read into *data/*len (the bytes are malloc'd: free them).
static inline int stream_read(handle input, int blocking, int64_t max, uint8_t **data, size_t *len) {
  if (blocking) input_blocking_read(input, max, ret);
  else input_read(input, max, ret);
  if (ret[0] == 0) {
    *data = *(uint8_t **)(ret + 4);
    *len = *(size_t *)(ret + 8);
    return *len == 0 ? STREAM_EMPTY : STREAM_OK;
  }
  if (ret[4] == 0) { // last-operation-failed(error)
    io_error_drop(*(handle *)(ret + 8));
    return STREAM_FAILED;
  }
  return STREAM_CLOSED;
}

// How many bytes the stream takes now (0: wait on its pollable); -1 when it is closed or failed.
static inline int64_t stream_check_write(handle output) {
  output_check_write(output, ret);
  if (ret[0] == 0) return *(int64_t *)(ret + 8);
  if (ret[8] == 0) io_error_drop(*(handle *)(ret + 12));
  return -1;
}

static inline int stream_write(handle output, const uint8_t *bytes, size_t len) {
  output_write(output, bytes, len, ret);
  if (ret[0] == 0) return 0;
  if (ret[4] == 0) io_error_drop(*(handle *)(ret + 8));
  return -1;
}

// Writes everything, waiting for room as needed; 0, or -1 when the stream failed.
static inline int stream_write_all(handle output, const uint8_t *bytes, size_t len) {
  while (len > 0) {
    int64_t room = stream_check_write(output);
    if (room < 0) return -1;
    if (room == 0) {
      handle ready = output_subscribe(output);
      pollable_block(ready);
      pollable_drop(ready);
      continue;
    }
    size_t n = (size_t)room < len ? (size_t)room : len;
    if (stream_write(output, bytes, n) != 0) return -1;
    bytes += n;
    len -= n;
  }
  return 0;
}
#endif
