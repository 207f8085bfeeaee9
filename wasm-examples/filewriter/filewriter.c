// filewriter: appends "$MESSAGE" (default "hello from filewriter") as a line to $OUT (default
// /data/out.txt) inside a preopened directory (a volume), then reads the file back to stdout.
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  const char *path = getenv("OUT");
  const char *message = getenv("MESSAGE");
  if (!path) path = "/data/out.txt";
  if (!message) message = "hello from filewriter";
  FILE *out = fopen(path, "a");
  if (!out) {
    perror("filewriter: open for append");
    return 1;
  }
  fprintf(out, "%s\n", message);
  fclose(out);
  FILE *in = fopen(path, "r");
  if (!in) {
    perror("filewriter: open for read");
    return 1;
  }
  char buffer[256];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, in)) > 0) fwrite(buffer, 1, n, stdout);
  fclose(in);
  return 0;
}
