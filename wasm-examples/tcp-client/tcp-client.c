// tcp-client: connects with wasi:sockets to HOST PORT (HOST: an IP address or a name resolved by
// wasi:sockets/ip-name-lookup), measures PINGS round trips of 64 bytes, then sends BYTES bytes of
// a known pattern while reading the echo back (non-blocking reads and writes and a poll over both:
// a sender that did not read would deadlock against a full ring), shuts down its sending side,
// checks every byte and the end of stream, and prints one line:
//   "echoed BYTES bytes in MS ms (MBPS MB/s), PINGS pings p50 US us p99 US us"
// or "tcp-client: connect HOST:PORT failed: connection-refused" on stderr with exit code 1.
// Usage: tcp-client HOST PORT [BYTES=1048576] [PINGS=0]
#include <string.h>
#include <time.h>
#include "../c/wasi-tcp.h"

static uint8_t pattern(uint64_t i) {
  return (uint8_t)(i * 31 + (i >> 12));
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int compare_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static const char *host;
static int port;

static int fail(const char *what, const char *detail) {
  fprintf(stderr, "tcp-client: %s %s:%d failed: %s\n", what, host, port, detail);
  return 1;
}

// The first IPv4 address of host: 0 and a[4], or the error code + 1.
static int resolve(handle network, uint8_t a[4]) {
  resolve_addresses(network, host, strlen(host), ret);
  if (ret[0] != 0) return ret[4] + 1;
  handle stream = *(handle *)(ret + 4);
  for (;;) {
    resolve_next(stream, ret);
    if (ret[0] != 0) {
      int code = ret[2];
      resolve_stream_drop(stream);
      return code + 1;
    }
    if (ret[2] == 0) break;
    if (ret[4] == 0) {
      memcpy(a, ret + 6, 4);
      resolve_stream_drop(stream);
      return 0;
    }
  }
  resolve_stream_drop(stream);
  return 18 + 1; // name-unresolvable: no IPv4 address
}

// Reads exactly len bytes (blocking); 0, or -1 at a premature end.
static int read_exact(handle input, uint8_t *into, size_t len) {
  while (len > 0) {
    uint8_t *data;
    size_t got;
    int status = stream_read(input, 1, (int64_t)len, &data, &got);
    if (status == STREAM_EMPTY) {
      free(data);
      continue;
    }
    if (status != STREAM_OK) return -1;
    memcpy(into, data, got);
    free(data);
    into += got;
    len -= got;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: tcp-client HOST PORT [BYTES] [PINGS]\n");
    return 2;
  }
  host = argv[1];
  port = atoi(argv[2]);
  uint64_t total = argc > 3 ? strtoull(argv[3], NULL, 10) : 1048576;
  int pings = argc > 4 ? atoi(argv[4]) : 0;
  handle network = instance_network();
  uint8_t a[4];
  int failed = resolve(network, a);
  if (failed) return fail("resolve", error_name((uint8_t)(failed - 1)));
  create_tcp_socket(IPV4, ret);
  if (ret[0] != 0) return fail("create socket for", error_name(ret[4]));
  handle socket = *(handle *)(ret + 4);
  tcp_start_connect(socket, network, IPV4, port, a[0], a[1], a[2], a[3], 0, 0, 0, 0, 0, 0, ret);
  if (ret[0] != 0) return fail("connect", error_name(ret[1]));
  failed = tcp_finish(socket, tcp_finish_connect, 4);
  if (failed) return fail("connect", error_name((uint8_t)(failed - 1)));
  handle input = *(handle *)(ret + 4), output = *(handle *)(ret + 8);

  // round trips: 64 bytes out, the same 64 back
  uint64_t *rtts = pings > 0 ? malloc(sizeof(uint64_t) * (size_t)pings) : NULL;
  uint8_t ping[64], pong[64];
  for (int i = 0; i < pings; i++) {
    memset(ping, 'a' + i % 26, sizeof ping);
    uint64_t start = now_ns();
    if (stream_write_all(output, ping, sizeof ping) != 0 || read_exact(input, pong, sizeof pong) != 0) return fail("ping", "connection closed");
    rtts[i] = now_ns() - start;
    if (memcmp(ping, pong, sizeof ping) != 0) return fail("ping", "wrong bytes echoed");
  }

  // the bulk transfer: write and read at once
  static uint8_t chunk[65536];
  uint64_t sent = 0, received = 0;
  int shut = 0;
  uint64_t start = now_ns();
  while (received < total || !shut) {
    int progressed = 0;
    if (sent < total) {
      int64_t room = stream_check_write(output);
      if (room < 0) return fail("write to", "connection reset");
      if (room > 0) {
        size_t n = (size_t)(total - sent < (uint64_t)room ? total - sent : (uint64_t)room);
        if (n > sizeof chunk) n = sizeof chunk;
        for (size_t i = 0; i < n; i++) chunk[i] = pattern(sent + i);
        if (stream_write(output, chunk, n) != 0) return fail("write to", "connection reset");
        sent += n;
        progressed = 1;
      }
    }
    if (sent == total && !shut) {
      tcp_shutdown(socket, SHUTDOWN_SEND, ret);
      shut = 1;
    }
    uint8_t *data;
    size_t len;
    int status = stream_read(input, 0, 65536, &data, &len);
    if (status == STREAM_OK) {
      for (size_t i = 0; i < len; i++) {
        if (data[i] != pattern(received + i)) {
          fprintf(stderr, "tcp-client: byte %llu is %u, expected %u\n", (unsigned long long)(received + i), data[i], pattern(received + i));
          return 1;
        }
      }
      received += len;
      progressed = 1;
    } else if (status != STREAM_EMPTY) {
      return fail("read from", status == STREAM_CLOSED ? "closed early" : "connection reset");
    }
    free(data);
    if (received > total) return fail("read from", "more bytes than sent");
    if (!progressed) {
      handle ready[2] = {input_subscribe(input), output_subscribe(output)};
      poll_list(ready, sent < total ? 2 : 1, ret);
      free(*(void **)ret);
      pollable_drop(ready[0]);
      pollable_drop(ready[1]);
    }
  }
  uint64_t elapsed = now_ns() - start;
  // the server closes after our shutdown: end of stream
  uint8_t *data;
  size_t len;
  int status;
  while ((status = stream_read(input, 1, 1, &data, &len)) == STREAM_EMPTY) free(data);
  if (status != STREAM_CLOSED) return fail("read from", "no end of stream after the echo");
  double ms = (double)elapsed / 1e6;
  printf("echoed %llu bytes in %.1f ms (%.1f MB/s)", (unsigned long long)total, ms, ms > 0 ? (double)total / 1048576.0 / (ms / 1000.0) : 0.0);
  if (pings > 0) {
    qsort(rtts, (size_t)pings, sizeof(uint64_t), compare_u64);
    printf(", %d pings p50 %llu us p99 %llu us", pings, (unsigned long long)(rtts[pings / 2] / 1000),
           (unsigned long long)(rtts[(pings * 99) / 100 < pings ? (pings * 99) / 100 : pings - 1] / 1000));
  }
  printf("\n");
  fflush(stdout);
  input_stream_drop(input);
  output_stream_drop(output);
  tcp_drop(socket);
  return 0;
}
