// pi: a batch job printing the first $DIGITS decimal digits of pi (default 1000) with Rabinowitz
// and Wagon's spigot algorithm. The output is checkable: it starts 3.14159265358979323846...
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  const char *digits_env = getenv("DIGITS");
  int digits = digits_env ? atoi(digits_env) : 1000;
  if (digits < 1) digits = 1;
  int len = digits * 10 / 3 + 2;
  int *a = malloc(sizeof(int) * len);
  if (!a) {
    fprintf(stderr, "pi: out of memory for %d digits\n", digits);
    return 1;
  }
  for (int i = 0; i < len; i++) a[i] = 2;
  int nines = 0, predigit = 0, printed = 0;
  // one extra round flushes the held predigit; the first emitted digit is the "3"
  for (int j = 0; j <= digits && printed < digits; j++) {
    int q = 0;
    for (int i = len; i > 0; i--) {
      int x = 10 * a[i - 1] + q * i;
      a[i - 1] = x % (2 * i - 1);
      q = x / (2 * i - 1);
    }
    a[0] = q % 10;
    q /= 10;
    if (q == 9) {
      nines++;
    } else if (q == 10) {
      if (j > 0 && printed < digits) { putchar('0' + predigit + 1); if (++printed == 1) putchar('.'); }
      for (int k = 0; k < nines && printed < digits; k++) { putchar('0'); if (++printed == 1) putchar('.'); }
      predigit = 0;
      nines = 0;
    } else {
      if (j > 0 && printed < digits) { putchar('0' + predigit); if (++printed == 1) putchar('.'); }
      predigit = q;
      for (int k = 0; k < nines && printed < digits; k++) { putchar('9'); if (++printed == 1) putchar('.'); }
      nines = 0;
    }
  }
  putchar('\n');
  free(a);
  return 0;
}
