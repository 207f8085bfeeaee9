// hello: greets $WHO, prints its argv, writes one line to stderr, copies stdin to stdout as it
// arrives when $ECHO_STDIN is set (to stderr when it is "stderr"), and exits with $EXIT_CODE
// (default 0).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *who = getenv("WHO");
  printf("hello, %s!\n", who ? who : "world");
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  fprintf(stderr, "hello: a line on stderr\n");
  const char *echo = getenv("ECHO_STDIN");
  if (echo) {
    // read/write, not stdio: each line typed (kubectl exec -i, attach) is echoed as it comes
    int out = strcmp(echo, "stderr") == 0 ? 2 : 1;
    fflush(stdout);
    char buffer[256];
    ssize_t n;
    while ((n = read(0, buffer, sizeof buffer)) > 0) write(out, buffer, (size_t)n);
  }
  const char *code = getenv("EXIT_CODE");
  return code ? atoi(code) : 0;
}
