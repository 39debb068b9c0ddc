/* Test helper, linked statically: it cannot load the checkpoint runtime, so
 * it runs outside the computation. Reads stdin until end of file, then
 * exits 0. */
#include <unistd.h>

int main(void) {
  char buf[64];
  while (read(0, buf, sizeof(buf)) > 0) {
  }
  return 0;
}
