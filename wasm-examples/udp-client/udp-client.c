// udp-client: sends PINGS datagrams of SIZE bytes with wasi:sockets to HOST PORT (HOST: an IP
// address or a name resolved by wasi:sockets/ip-name-lookup) on a socket connected to it, waits
// for each echo (1 s, then sends it again: UDP may lose it; 5 tries), checks its bytes, and prints
//   "PINGS pings of SIZE bytes: p50 US us p99 US us, RESENT resent"
// or "udp-client: send HOST:PORT failed: access-denied" on stderr with exit code 1 (an error of
// the first send: egress denied, datagram-too-large over 65,507 bytes, ...).
// Usage: udp-client HOST PORT [PINGS=10] [SIZE=64]
#include <time.h>
#include "../c/wasi-udp.h"

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
  fprintf(stderr, "udp-client: %s %s:%d failed: %s\n", what, host, port, detail);
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

// Waits up to timeout_ns for the echo of `sent`: 1 when it came, 0 on timeout.
static int await_echo(handle in, const uint8_t *sent, size_t len, uint64_t timeout_ns) {
  uint64_t deadline = now_ns() + timeout_ns;
  for (;;) {
    udp_receive(in, 8, ret);
    if (ret[0] == 0) {
      incoming_datagram *list = *(incoming_datagram **)(ret + 4);
      size_t count = *(size_t *)(ret + 8);
      int matched = 0;
      for (size_t i = 0; i < count; i++) {
        if (list[i].len == len && memcmp(list[i].data, sent, len) == 0) matched = 1; // else a late echo
        free(list[i].data);
      }
      free(list);
      if (matched) return 1;
    }
    uint64_t now = now_ns();
    if (now >= deadline) return 0;
    handle pollables[2] = {udp_incoming_subscribe(in), subscribe_duration((int64_t)(deadline - now))};
    static _Alignas(8) uint8_t poll_ret[16];
    poll_list(pollables, 2, poll_ret);
    free(*(void **)(poll_ret + 0));
    pollable_drop(pollables[0]);
    pollable_drop(pollables[1]);
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: udp-client HOST PORT [PINGS=10] [SIZE=64]\n");
    return 2;
  }
  host = argv[1];
  port = atoi(argv[2]);
  int pings = argc > 3 ? atoi(argv[3]) : 10;
  long size = argc > 4 ? atol(argv[4]) : 64;
  if (port < 1 || port > 65535 || pings < 1 || size < 8 || size > 1000000) {
    fprintf(stderr, "udp-client: bad arguments\n");
    return 2;
  }
  handle network = instance_network();
  uint8_t address[4];
  int failed = resolve(network, address);
  if (failed) return fail("resolve", error_name((uint8_t)(failed - 1)));
  handle socket = udp_bind_ipv4(network, 0);
  if (socket < 0) return fail("bind for", error_name((uint8_t)(-1 - socket)));
  udp_stream(socket, 1, IPV4, port, address[0], address[1], address[2], address[3], 0, 0, 0, 0, 0, 0, ret);
  if (ret[0] != 0) return fail("connect", error_name(ret[4]));
  handle in = *(handle *)(ret + 4), out = *(handle *)(ret + 8);

  uint8_t *payload = malloc((size_t)size);
  uint64_t *rtt = malloc(sizeof(uint64_t) * (size_t)pings);
  int resent = 0;
  for (int i = 0; i < pings; i++) {
    for (long b = 0; b < size; b++) payload[b] = (uint8_t)(b * 7 + i);
    memcpy(payload, &i, sizeof i);
    uint64_t started = now_ns();
    int echoed = 0;
    for (int attempt = 0; attempt < 5 && !echoed; attempt++) {
      if (attempt > 0) resent++;
      failed = udp_send_one(out, payload, (size_t)size, 0, 0);
      if (failed) return fail("send", error_name((uint8_t)(failed - 1)));
      echoed = await_echo(in, payload, (size_t)size, 1000000000ull);
    }
    if (!echoed) return fail("echo from", "no answer after 5 tries");
    rtt[i] = now_ns() - started;
  }
  qsort(rtt, (size_t)pings, sizeof *rtt, compare_u64);
  printf("%d pings of %ld bytes: p50 %llu us p99 %llu us, %d resent\n", pings, size,
         (unsigned long long)(rtt[pings / 2] / 1000), (unsigned long long)(rtt[(pings * 99) / 100 < pings ? (pings * 99) / 100 : pings - 1] / 1000), resent);
  fflush(stdout);
  udp_incoming_drop(in);
  udp_outgoing_drop(out);
  udp_drop(socket);
  return 0;
}
