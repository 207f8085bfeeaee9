// hello: greets $WHO, prints its argv, writes one line to stderr, copies stdin to stdout as it
// arrives when $ECHO_STDIN is set, and exits with $EXIT_CODE (default 0).
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *who = getenv("WHO");
  printf("hello, %s!\n", who ? who : "world");
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  fprintf(stderr, "hello: a line on stderr\n");
  if (getenv("ECHO_STDIN")) {
    // read/write, not stdio: each line typed (kubectl exec -i, attach) is echoed as it comes
    fflush(stdout);
    char buffer[256];
    ssize_t n;
    while ((n = read(0, buffer, sizeof buffer)) > 0) write(1, buffer, (size_t)n);
  }
  const char *code = getenv("EXIT_CODE");
  return code ? atoi(code) : 0;
}
