// Debian's wasi-libc (2022) exports no cabi_realloc. Without one, wit-component gives the preview1
// adapter a memory.grow page that dlmalloc later hands out too, corrupting the adapter's state
// under heavy malloc ("assertion failed at adapter line 2857"). A malloc-backed one avoids that.
#include <stdlib.h>

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *ptr, size_t old_size, size_t align, size_t new_size) {
  (void)old_size;
  (void)align; // malloc's 16-byte alignment covers every component-model type
  return realloc(ptr, new_size);
}
