// alloc: mallocs and fills $CHUNK_KIB KiB blocks (default 1024) until malloc returns NULL, keeping
// them all; then checks every block still holds its own pattern (so blocks handed out twice, or
// memory that was never really there, would show). What it does at NULL comes from $ON_NULL:
//   exit (default): print, exit 1 | free: free everything, print, exit 0 (a guest that copes)
//   trap: __builtin_trap (a guest that dies) | hold: never reached, see $HOLD_MIB
// $HOLD_MIB: stop after that many MiB and sleep until stopped (holds its memory in a pod).
// Built as a plain preview 1 module, as `clang --target=wasm32-wasi -O2` makes it (no cabi_realloc).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct block {
  struct block *next;
  uint32_t id;
};

int main(void) {
  const char *chunk_env = getenv("CHUNK_KIB");
  const char *on_null = getenv("ON_NULL");
  const char *hold_env = getenv("HOLD_MIB");
  size_t chunk = (size_t)(chunk_env ? atoi(chunk_env) : 1024) * 1024;
  long hold_kib = hold_env ? atol(hold_env) * 1024 : -1;
  if (!on_null) on_null = "exit";
  if (chunk < sizeof(struct block)) chunk = sizeof(struct block);
  struct block *head = NULL;
  uint32_t count = 0;
  for (;;) {
    if (hold_kib >= 0 && (long)(count * (chunk / 1024)) >= hold_kib) {
      printf("alloc: holding %lu KiB\n", (unsigned long)count * (chunk / 1024));
      fflush(stdout);
      for (;;) sleep(3600);
    }
    struct block *b = malloc(chunk);
    if (!b) break;
    memset(b, (int)(count & 0xff), chunk); // touch every byte: the memory must really be there
    b->id = count++;
    b->next = head;
    head = b;
  }
  uint32_t corrupted = 0;
  for (struct block *b = head; b; b = b->next) {
    const unsigned char *bytes = (const unsigned char *)b;
    for (size_t i = sizeof *b; i < chunk; i += 512) {
      if (bytes[i] != (b->id & 0xff)) {
        corrupted++;
        break;
      }
    }
  }
  unsigned long kib = (unsigned long)count * (chunk / 1024);
  fprintf(stderr, "alloc: malloc returned NULL after %lu KiB in %u blocks, %u corrupted\n", kib, count, corrupted);
  if (corrupted) return 2;
  if (strcmp(on_null, "trap") == 0) __builtin_trap();
  if (strcmp(on_null, "free") == 0) {
    while (head) {
      struct block *next = head->next;
      free(head);
      head = next;
    }
    printf("alloc: coped: freed %lu KiB\n", kib);
    return 0;
  }
  return 1;
}
