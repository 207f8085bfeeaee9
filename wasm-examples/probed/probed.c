// probed: a long-running container with its own probe commands, for exec probes (which run the
// same component with the probe's command as argv; exit code 0 = success).
//   probed                  serves: creates $READY_FILE after $READY_AFTER seconds (if both set),
//                           then sleeps forever
//   probed check PATH       exits 0 if PATH exists, 1 otherwise (an exec readiness/liveness probe)
//   probed exit N           exits with code N
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "check") == 0) {
    if (access(argv[2], F_OK) == 0) return 0;
    printf("probed: %s is missing\n", argv[2]);
    return 1;
  }
  if (argc >= 3 && strcmp(argv[1], "exit") == 0) return atoi(argv[2]);
  const char *file = getenv("READY_FILE");
  const char *after = getenv("READY_AFTER");
  printf("probed: serving\n");
  fflush(stdout);
  if (file && after) {
    sleep((unsigned)atol(after));
    FILE *f = fopen(file, "w");
    if (!f) {
      perror("probed: cannot create the ready file");
      return 1;
    }
    fputs("ready\n", f);
    fclose(f);
    printf("probed: created %s\n", file);
    fflush(stdout);
  }
  for (;;) sleep(3600);
}
