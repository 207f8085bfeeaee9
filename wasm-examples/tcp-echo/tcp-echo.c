// tcp-echo: a TCP echo server with wasi:sockets. Binds 0.0.0.0:$PORT (default 7000), listens,
// prints "listening on PORT", then serves one connection at a time: what it reads it writes back
// (waiting for room when the peer is slow: backpressure), until the peer shuts down its sending
// side; then it shuts down its own, closes, and prints "echoed N bytes". Runs until stopped.
// The canonical ABI calls are in ../c/wasi-tcp.h; env and stdio go through the preview 1 adapter.
#include "../c/wasi-tcp.h"

static void die(const char *what, int port, int code) {
  fprintf(stderr, "tcp-echo: %s 0.0.0.0:%d failed: %s\n", what, port, error_name((uint8_t)code));
  exit(1);
}

static void serve(handle input, handle output) {
  uint64_t total = 0;
  for (;;) {
    uint8_t *data;
    size_t len;
    int status = stream_read(input, 1, 65536, &data, &len);
    if (status == STREAM_EMPTY) {
      free(data);
      continue;
    }
    if (status != STREAM_OK) {
      if (status == STREAM_FAILED) fprintf(stderr, "tcp-echo: read failed: connection reset\n");
      break;
    }
    int written = stream_write_all(output, data, len);
    free(data);
    if (written != 0) {
      fprintf(stderr, "tcp-echo: write failed: connection reset\n");
      break;
    }
    total += len;
  }
  printf("echoed %llu bytes\n", (unsigned long long)total);
  fflush(stdout);
}

int main(void) {
  const char *port_env = getenv("PORT");
  int port = port_env ? atoi(port_env) : 7000;
  if (port < 0 || port > 65535) {
    fprintf(stderr, "tcp-echo: invalid PORT %s\n", port_env);
    return 1;
  }
  handle network = instance_network();
  create_tcp_socket(IPV4, ret);
  if (ret[0] != 0) die("create socket for", port, ret[4]);
  handle listener = *(handle *)(ret + 4);
  tcp_start_bind(listener, network, IPV4, port, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ret);
  if (ret[0] != 0) die("bind", port, ret[1]);
  int failed = tcp_finish(listener, tcp_finish_bind, 1);
  if (failed) die("bind", port, failed - 1);
  tcp_start_listen(listener, ret);
  if (ret[0] != 0) die("listen on", port, ret[1]);
  failed = tcp_finish(listener, tcp_finish_listen, 1);
  if (failed) die("listen on", port, failed - 1);
  tcp_local_address(listener, ret);
  if (ret[0] == 0) port = *(uint16_t *)(ret + 8);
  printf("listening on %d\n", port);
  fflush(stdout);

  handle incoming = tcp_subscribe(listener);
  for (;;) {
    pollable_block(incoming);
    tcp_accept(listener, ret);
    if (ret[0] != 0) continue; // would-block: nothing after all
    handle socket = *(handle *)(ret + 4), input = *(handle *)(ret + 8), output = *(handle *)(ret + 12);
    serve(input, output);
    tcp_shutdown(socket, SHUTDOWN_SEND, ret);
    input_stream_drop(input);
    output_stream_drop(output);
    tcp_drop(socket);
  }
}
