// tcp-listen: binds 0.0.0.0:$PORT (default 7000; 0 = any free port) with wasi:sockets, listens, prints
// "listening on PORT", then waits for connections (blocking on the listener's pollable) until it
// is stopped, closing any connection it accepts. Exits 1 with a message on stderr when the
// socket cannot be bound or listen. wasi-libc of 2022 has no WASI 0.2 sockets: the canonical ABI
// calls are written out by hand; env and stdio go through the preview 1 command adapter.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SOCKETS(iface) "wasi:sockets/" iface "@0.2.12"
#define IMPORT(module, name) __attribute__((import_module(module), import_name(name)))

typedef int32_t handle;

IMPORT(SOCKETS("instance-network"), "instance-network") handle instance_network(void);
IMPORT(SOCKETS("tcp-create-socket"), "create-tcp-socket") void create_tcp_socket(int32_t family, void *ret);
// ip-socket-address flattened: discriminant, then 11 joined values (ipv4: port, 4 address bytes)
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.start-bind")
void start_bind(handle self, handle network, int32_t tag, int32_t port, int32_t a, int32_t b, int32_t c, int32_t d,
                int32_t e, int32_t f, int32_t g, int32_t h, int32_t i, int32_t j, void *ret);
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.finish-bind") void finish_bind(handle self, void *ret);
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.start-listen") void start_listen(handle self, void *ret);
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.finish-listen") void finish_listen(handle self, void *ret);
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.local-address") void local_address(handle self, void *ret);
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.accept") void tcp_accept(handle self, void *ret);
IMPORT(SOCKETS("tcp"), "[method]tcp-socket.subscribe") handle tcp_subscribe(handle self);
IMPORT(SOCKETS("tcp"), "[resource-drop]tcp-socket") void tcp_drop(handle self);
IMPORT("wasi:io/poll@0.2.12", "[method]pollable.block") void pollable_block(handle self);
IMPORT("wasi:io/poll@0.2.12", "[resource-drop]pollable") void pollable_drop(handle self);
IMPORT("wasi:io/streams@0.2.12", "[resource-drop]input-stream") void input_stream_drop(handle self);
IMPORT("wasi:io/streams@0.2.12", "[resource-drop]output-stream") void output_stream_drop(handle self);

enum { IPV4 = 0, ERROR_WOULD_BLOCK = 8 };

static const char *const ERROR_CODES[] = {
  "unknown", "access-denied", "not-supported", "invalid-argument", "out-of-memory", "timeout",
  "concurrency-conflict", "not-in-progress", "would-block", "invalid-state", "new-socket-limit",
  "address-not-bindable", "address-in-use", "remote-unreachable", "connection-refused",
  "connection-reset", "connection-aborted", "datagram-too-large", "name-unresolvable",
  "temporary-resolver-failure", "permanent-resolver-failure",
};

// result<_, error-code> and result<own<..>, error-code>: a discriminant byte, then the payload
static _Alignas(4) uint8_t ret[40];
static int port;

static const char *error_name(uint8_t code) {
  return code < sizeof ERROR_CODES / sizeof *ERROR_CODES ? ERROR_CODES[code] : "?";
}

static void check(const char *what, int payload_offset) {
  if (ret[0] == 0) return;
  fprintf(stderr, "tcp-listen: %s 0.0.0.0:%d failed: %s\n", what, port, error_name(ret[payload_offset]));
  exit(1);
}

// finish-* may answer would-block until the socket's pollable is ready
static void finish(handle socket, void (*finish_op)(handle, void *), const char *what) {
  for (;;) {
    finish_op(socket, ret);
    if (ret[0] == 0 || ret[1] != ERROR_WOULD_BLOCK) break;
    handle ready = tcp_subscribe(socket);
    pollable_block(ready);
    pollable_drop(ready);
  }
  check(what, 1);
}

int main(void) {
  const char *port_env = getenv("PORT");
  port = port_env ? atoi(port_env) : 7000;
  if (port < 0 || port > 65535) {
    fprintf(stderr, "tcp-listen: invalid PORT %s\n", port_env);
    return 1;
  }
  handle network = instance_network();
  create_tcp_socket(IPV4, ret);
  check("create socket for", 4);
  handle socket = *(handle *)(ret + 4);
  start_bind(socket, network, IPV4, port, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ret);
  check("bind", 1);
  finish(socket, finish_bind, "bind");
  start_listen(socket, ret);
  check("listen on", 1);
  finish(socket, finish_listen, "listen on");
  // port 0 asks for an ephemeral port: print the one we got
  // (result<ip-socket-address>: tag, then the address variant at 4, its port at 8)
  local_address(socket, ret);
  if (ret[0] == 0) port = *(uint16_t *)(ret + 8);
  printf("listening on %d\n", port);
  fflush(stdout);

  handle incoming = tcp_subscribe(socket);
  for (;;) {
    pollable_block(incoming); // returns when a connection is pending
    tcp_accept(socket, ret);
    if (ret[0] != 0) continue; // would-block: nothing after all
    handle *accepted = (handle *)(ret + 4);
    input_stream_drop(accepted[1]);
    output_stream_drop(accepted[2]);
    tcp_drop(accepted[0]); // no protocol to speak: close the connection
    printf("accepted and closed a connection\n");
    fflush(stdout);
  }
}
