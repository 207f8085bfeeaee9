// WASI 0.2.12 UDP for C examples (wasi:sockets/udp), canonical ABI imports written out by hand as
// in wasi-tcp.h (which this includes for the shared ones: network, poll, errors).
// Memory layouts (align 4): incoming-datagram is 40 bytes {data ptr @0, len @4, remote-address:
// tag @8, ipv4 {port @12, address @14..17}}; outgoing-datagram is 44 bytes {data ptr @0, len @4,
// option tag @8, remote-address: tag @12, ipv4 {port @16, address @18..21}}.
#ifndef SKIFF_WASI_UDP_H
#define SKIFF_WASI_UDP_H
#include <string.h>
#include "wasi-tcp.h"

IMPORT(SOCKETS("udp-create-socket"), "create-udp-socket") void create_udp_socket(int32_t family, void *ret);
IMPORT(SOCKETS("udp"), "[method]udp-socket.start-bind")
void udp_start_bind(handle self, handle network, int32_t tag, int32_t port, int32_t a, int32_t b, int32_t c, int32_t d,
                    int32_t e, int32_t f, int32_t g, int32_t h, int32_t i, int32_t j, void *ret);
IMPORT(SOCKETS("udp"), "[method]udp-socket.finish-bind") void udp_finish_bind(handle self, void *ret);
// option<ip-socket-address> flattened: option tag, address tag, then 11 joined values
IMPORT(SOCKETS("udp"), "[method]udp-socket.stream")
void udp_stream(handle self, int32_t some, int32_t tag, int32_t port, int32_t a, int32_t b, int32_t c, int32_t d,
                int32_t e, int32_t f, int32_t g, int32_t h, int32_t i, int32_t j, void *ret);
IMPORT(SOCKETS("udp"), "[method]udp-socket.local-address") void udp_local_address(handle self, void *ret);
IMPORT(SOCKETS("udp"), "[method]udp-socket.subscribe") handle udp_subscribe(handle self);
IMPORT(SOCKETS("udp"), "[resource-drop]udp-socket") void udp_drop(handle self);
IMPORT(SOCKETS("udp"), "[method]incoming-datagram-stream.receive") void udp_receive(handle self, int64_t max, void *ret);
IMPORT(SOCKETS("udp"), "[method]incoming-datagram-stream.subscribe") handle udp_incoming_subscribe(handle self);
IMPORT(SOCKETS("udp"), "[resource-drop]incoming-datagram-stream") void udp_incoming_drop(handle self);
IMPORT(SOCKETS("udp"), "[method]outgoing-datagram-stream.check-send") void udp_check_send(handle self, void *ret);
IMPORT(SOCKETS("udp"), "[method]outgoing-datagram-stream.send") void udp_send(handle self, const void *datagrams, size_t len, void *ret);
IMPORT(SOCKETS("udp"), "[method]outgoing-datagram-stream.subscribe") handle udp_outgoing_subscribe(handle self);
IMPORT(SOCKETS("udp"), "[resource-drop]outgoing-datagram-stream") void udp_outgoing_drop(handle self);
IMPORT("wasi:clocks/monotonic-clock@0.2.12", "subscribe-duration") handle subscribe_duration(int64_t ns);

typedef struct {
  const uint8_t *data;
  size_t len;
  uint8_t has_address; // option tag
  uint8_t pad[3];
  uint8_t tag; // ip-socket-address tag (0: ipv4)
  uint8_t pad2[3];
  uint16_t port;
  uint8_t address[4];
  uint8_t rest[22];
} outgoing_datagram;
_Static_assert(sizeof(outgoing_datagram) == 44, "outgoing-datagram is 44 bytes");

typedef struct {
  uint8_t *data;
  size_t len;
  uint8_t tag;
  uint8_t pad[3];
  uint16_t port;
  uint8_t address[4];
  uint8_t rest[22];
} incoming_datagram;
_Static_assert(sizeof(incoming_datagram) == 40, "incoming-datagram is 40 bytes");

// Binds an ipv4 UDP socket to 0.0.0.0:port (0: ephemeral): the socket, or -1 - error code.
static inline handle udp_bind_ipv4(handle network, int port) {
  create_udp_socket(IPV4, ret);
  if (ret[0] != 0) return -1 - ret[4];
  handle socket = *(handle *)(ret + 4);
  udp_start_bind(socket, network, IPV4, port, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ret);
  if (ret[0] != 0) return -1 - ret[1];
  udp_finish_bind(socket, ret);
  if (ret[0] != 0) return -1 - ret[1];
  return socket;
}

// Sends one datagram (to `to` when given, else to the connected peer), waiting for check-send:
// 0, or the error code + 1.
static inline int udp_send_one(handle out, const uint8_t *data, size_t len, const uint8_t to[4], int to_port) {
  for (;;) {
    udp_check_send(out, ret);
    if (ret[0] != 0) return ret[8] + 1;
    if (*(uint64_t *)(ret + 8) > 0) break;
    handle ready = udp_outgoing_subscribe(out);
    pollable_block(ready);
    pollable_drop(ready);
  }
  outgoing_datagram datagram;
  memset(&datagram, 0, sizeof datagram);
  datagram.data = data;
  datagram.len = len;
  if (to) {
    datagram.has_address = 1;
    datagram.port = (uint16_t)to_port;
    memcpy(datagram.address, to, 4);
  }
  udp_send(out, &datagram, 1, ret);
  if (ret[0] != 0) return ret[8] + 1;
  return 0;
}
#endif
