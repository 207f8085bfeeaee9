// cpuhog: burns CPU on an xorshift mix for $ROUNDS million rounds (default: forever), printing a
// checksum every 100 million rounds. Shows cpu limits (throttling) and fuel budgets.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  const char *rounds_env = getenv("ROUNDS");
  uint64_t rounds = rounds_env ? strtoull(rounds_env, NULL, 10) * 1000000ull : UINT64_MAX;
  uint64_t x = 88172645463325252ull, checksum = 0;
  for (uint64_t i = 1; i <= rounds; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    checksum += x & 0xff; // depends on every round: the loop cannot be folded away
    if (i % 100000000ull == 0) printf("cpuhog: %llu M rounds, checksum %llu\n", (unsigned long long)(i / 1000000ull), (unsigned long long)checksum);
  }
  printf("cpuhog: done, checksum %llu\n", (unsigned long long)checksum);
  return 0;
}
