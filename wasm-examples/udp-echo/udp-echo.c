// udp-echo: a UDP echo server with wasi:sockets. Binds 0.0.0.0:$PORT (default 7001), prints
// "listening on udp PORT", then sends every datagram it receives back to where it came from
// (unconnected socket: each reply names its address). Runs until stopped; every 1000 datagrams
// it prints how many it echoed. The canonical ABI calls are in ../c/wasi-udp.h.
#include "../c/wasi-udp.h"

int main(void) {
  const char *port_env = getenv("PORT");
  int port = port_env ? atoi(port_env) : 7001;
  if (port < 0 || port > 65535) {
    fprintf(stderr, "udp-echo: invalid PORT %s\n", port_env);
    return 1;
  }
  handle network = instance_network();
  handle socket = udp_bind_ipv4(network, port);
  if (socket < 0) {
    fprintf(stderr, "udp-echo: bind 0.0.0.0:%d failed: %s\n", port, error_name((uint8_t)(-1 - socket)));
    return 1;
  }
  udp_stream(socket, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ret);
  if (ret[0] != 0) {
    fprintf(stderr, "udp-echo: stream failed: %s\n", error_name(ret[4]));
    return 1;
  }
  handle in = *(handle *)(ret + 4), out = *(handle *)(ret + 8);
  udp_local_address(socket, ret);
  if (ret[0] == 0) port = *(uint16_t *)(ret + 8);
  printf("listening on udp %d\n", port);
  fflush(stdout);

  handle ready = udp_incoming_subscribe(in);
  uint64_t echoed = 0;
  for (;;) {
    pollable_block(ready);
    udp_receive(in, 16, ret);
    if (ret[0] != 0) {
      fprintf(stderr, "udp-echo: receive failed: %s\n", error_name(ret[4]));
      continue;
    }
    incoming_datagram *list = *(incoming_datagram **)(ret + 4);
    size_t count = *(size_t *)(ret + 8);
    for (size_t i = 0; i < count; i++) {
      incoming_datagram *d = &list[i];
      if (d->tag == IPV4) {
        int failed = udp_send_one(out, d->data, d->len, d->address, d->port);
        if (failed) fprintf(stderr, "udp-echo: send to %d.%d.%d.%d:%d failed: %s\n", d->address[0], d->address[1],
                            d->address[2], d->address[3], d->port, error_name((uint8_t)(failed - 1)));
        else if (++echoed % 1000 == 0) {
          printf("echoed %llu datagrams\n", (unsigned long long)echoed);
          fflush(stdout);
        }
      }
      free(d->data);
    }
    free(list);
  }
}
