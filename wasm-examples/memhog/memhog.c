// memhog: allocates $CHUNK_MIB MiB chunks (default 1), touching each, until malloc fails or
// $LIMIT_MIB MiB are held (default: no limit). Failing malloc -> message on stderr, exit 1.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  const char *chunk_env = getenv("CHUNK_MIB");
  const char *limit_env = getenv("LIMIT_MIB");
  size_t chunk_bytes = (size_t)(chunk_env ? atoi(chunk_env) : 1) << 20;
  long limit_mib = limit_env ? atol(limit_env) : -1;
  size_t held_mib = 0;
  // chain the chunks so the compiler cannot prove them unused and drop malloc altogether
  void **head = NULL;
  for (;;) {
    if (limit_mib >= 0 && (long)held_mib >= limit_mib) break;
    void **chunk = malloc(chunk_bytes);
    if (!chunk) {
      fprintf(stderr, "memhog: malloc failed after %zu MiB\n", held_mib);
      return 1;
    }
    memset(chunk, 0xa5, chunk_bytes);
    *chunk = head;
    head = chunk;
    held_mib += chunk_bytes >> 20;
  }
  size_t chunks = 0;
  for (void **p = head; p; p = *p) chunks++;
  printf("memhog: holding %zu MiB in %zu chunks\n", held_mib, chunks);
  return 0;
}
