// sleep: prints a line, then sleeps $SECONDS seconds (default: forever, one hour at a time), like
// `sleep infinity` in a container. An idle guest: it blocks in the host's poll, using no CPU.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
  const char *seconds_env = getenv("SECONDS");
  long seconds = seconds_env ? atol(seconds_env) : -1;
  printf("sleep: sleeping %s\n", seconds < 0 ? "forever" : seconds_env);
  fflush(stdout);
  if (seconds < 0) for (;;) sleep(3600);
  sleep((unsigned)seconds);
  printf("sleep: done\n");
  return 0;
}
