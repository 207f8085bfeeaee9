// nslookup: resolves each argument with wasi:sockets/ip-name-lookup and prints one line per name:
//   "<name>: <address> <address>..."   or   "<name>: <error-code>"
// (e.g. `web-svc: 10.96.0.10`, `nope: name-unresolvable`). Exits 1 if any name failed. wasi-libc
// of 2022 has no WASI 0.2 sockets: the canonical ABI calls are written out by hand; args and
// stdio go through the preview 1 command adapter.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SOCKETS(iface) "wasi:sockets/" iface "@0.2.12"
#define IMPORT(module, name) __attribute__((import_module(module), import_name(name)))

typedef int32_t handle;

IMPORT(SOCKETS("instance-network"), "instance-network") handle instance_network(void);
IMPORT(SOCKETS("ip-name-lookup"), "resolve-addresses") void resolve_addresses(handle network, const char *name, size_t len, void *ret);
IMPORT(SOCKETS("ip-name-lookup"), "[method]resolve-address-stream.resolve-next-address") void resolve_next(handle self, void *ret);
IMPORT(SOCKETS("ip-name-lookup"), "[resource-drop]resolve-address-stream") void stream_drop(handle self);

static const char *const ERROR_CODES[] = {
  "unknown", "access-denied", "not-supported", "invalid-argument", "out-of-memory", "timeout",
  "concurrency-conflict", "not-in-progress", "would-block", "invalid-state", "new-socket-limit",
  "address-not-bindable", "address-in-use", "remote-unreachable", "connection-refused",
  "connection-reset", "connection-aborted", "datagram-too-large", "name-unresolvable",
  "temporary-resolver-failure", "permanent-resolver-failure",
};

static _Alignas(4) uint8_t ret[32];

static const char *error_name(uint8_t code) {
  return code < sizeof ERROR_CODES / sizeof *ERROR_CODES ? ERROR_CODES[code] : "?";
}

static int lookup(handle network, const char *name) {
  printf("%s:", name);
  resolve_addresses(network, name, strlen(name), ret);
  // result<own<resolve-address-stream>, error-code>: tag at 0, handle (or the code) at 4
  if (ret[0] != 0) {
    printf(" %s\n", error_name(ret[4]));
    return 1;
  }
  handle stream = *(handle *)(ret + 4);
  for (;;) {
    // result<option<ip-address>, error-code>: tags at 0 (result), 2 (option), 4 (ip-address), payload at 6
    resolve_next(stream, ret);
    if (ret[0] != 0) {
      printf(" %s\n", error_name(ret[2]));
      stream_drop(stream);
      return 1;
    }
    if (ret[2] == 0) break; // none: every address was given
    if (ret[4] == 0) {
      printf(" %u.%u.%u.%u", ret[6], ret[7], ret[8], ret[9]);
    } else {
      const uint16_t *words = (const uint16_t *)(ret + 6);
      printf(" %x:%x:%x:%x:%x:%x:%x:%x", words[0], words[1], words[2], words[3], words[4], words[5], words[6], words[7]);
    }
  }
  printf("\n");
  stream_drop(stream);
  return 0;
}

int main(int argc, char **argv) {
  handle network = instance_network();
  int failed = 0;
  for (int i = 1; i < argc; i++) failed |= lookup(network, argv[i]);
  fflush(stdout);
  return failed;
}
