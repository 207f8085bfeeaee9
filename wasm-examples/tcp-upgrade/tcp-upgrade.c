// tcp-upgrade: an HTTP Upgrade echo server with wasi:sockets (a stand-in for a WebSocket guest:
// the Ingress and NodePort tests carry its handshake and bytes). Binds 0.0.0.0:$PORT (default
// 7000), listens, prints "listening on PORT", then serves one connection at a time: it reads the
// request head up to the blank line, answers "HTTP/1.1 101 Switching Protocols" (Upgrade: echo,
// and X-Request-Line: the request's first line), then writes back what it reads until the peer
// shuts down its sending side, and prints "upgraded, echoed N bytes". A head over 16 KiB or without
// "Upgrade:" gets "HTTP/1.1 400 Bad Request" and the connection is closed.
// The canonical ABI calls are in ../c/wasi-tcp.h; env and stdio go through the preview 1 adapter.
#include "../c/wasi-tcp.h"
#include <string.h>
#include <strings.h>

static void die(const char *what, int port, int code) {
  fprintf(stderr, "tcp-upgrade: %s 0.0.0.0:%d failed: %s\n", what, port, error_name((uint8_t)code));
  exit(1);
}

static int find_blank_line(const uint8_t *p, size_t n) {
  for (size_t i = 0; i + 3 < n; i++) {
    if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n') return (int)(i + 4);
  }
  return -1;
}

static void serve(handle input, handle output) {
  static uint8_t head[16384];
  size_t have = 0;
  int end = -1;
  while (end < 0) {
    uint8_t *data;
    size_t len;
    int status = stream_read(input, 1, sizeof head - have, &data, &len);
    if (status == STREAM_EMPTY) {
      free(data);
      continue;
    }
    if (status != STREAM_OK) return;
    memcpy(head + have, data, len);
    free(data);
    have += len;
    end = find_blank_line(head, have);
    if (end < 0 && have == sizeof head) break;
  }
  int upgrade = 0;
  for (int i = 0; end > 0 && i + 8 < end; i++) {
    if (strncasecmp((const char *)head + i, "\nUpgrade:", 9) == 0) upgrade = 1;
  }
  if (!upgrade) {
    const char *bad = "HTTP/1.1 400 Bad Request\r\nContent-Length: 19\r\nConnection: close\r\n\r\nUpgrade is required";
    stream_write_all(output, (const uint8_t *)bad, strlen(bad));
    return;
  }
  size_t line = 0;
  while (line < (size_t)end && head[line] != '\r') line++;
  char answer[512];
  int n = snprintf(answer, sizeof answer, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\nX-Request-Line: %.*s\r\n\r\n", (int)(line < 300 ? line : 300), (const char *)head);
  if (stream_write_all(output, (const uint8_t *)answer, (size_t)n) != 0) return;
  uint64_t total = have - (size_t)end;
  if (total && stream_write_all(output, head + end, (size_t)total) != 0) return;
  for (;;) {
    uint8_t *data;
    size_t len;
    int status = stream_read(input, 1, 65536, &data, &len);
    if (status == STREAM_EMPTY) {
      free(data);
      continue;
    }
    if (status != STREAM_OK) break;
    int written = stream_write_all(output, data, len);
    free(data);
    if (written != 0) break;
    total += len;
  }
  printf("upgraded, echoed %llu bytes\n", (unsigned long long)total);
  fflush(stdout);
}

int main(void) {
  const char *port_env = getenv("PORT");
  int port = port_env ? atoi(port_env) : 7000;
  if (port < 0 || port > 65535) {
    fprintf(stderr, "tcp-upgrade: invalid PORT %s\n", port_env);
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
