// hello: greets $WHO, prints its argv, writes one line to stderr, copies stdin to stdout when
// $ECHO_STDIN is set, and exits with $EXIT_CODE (default 0).
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  const char *who = getenv("WHO");
  printf("hello, %s!\n", who ? who : "world");
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  fprintf(stderr, "hello: a line on stderr\n");
  if (getenv("ECHO_STDIN")) {
    char buffer[256];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, stdin)) > 0) fwrite(buffer, 1, n, stdout);
  }
  const char *code = getenv("EXIT_CODE");
  return code ? atoi(code) : 0;
}
