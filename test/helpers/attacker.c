/* The race tests' attacker: swaps each pair of paths with renameat2(RENAME_EXCHANGE), over and over,
 * until killed. One side of a pair is a real file or directory inside a tree arsync works on, the other
 * a prepared symlink to somewhere outside it, so the path flips between the two while arsync runs.
 * usage: attacker [-1] A1 B1 [A2 B2 ...]   (-1: swap each pair once and exit) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

int main(int argc, char **argv)
{
  int once = argc > 1 && argv[1][0] == '-' && argv[1][1] == '1';
  if (once) {
    argv++;
    argc--;
  }
  if (argc < 3 || argc % 2 == 0) {
    fprintf(stderr, "usage: %s A1 B1 [A2 B2 ...]\n", argv[0]);
    return 2;
  }
  /* Proves to the test that the loop runs (a silent failure here would make every test pass). */
  for (int i = 1; i < argc; i += 2)
    if (syscall(SYS_renameat2, AT_FDCWD, argv[i], AT_FDCWD, argv[i + 1], RENAME_EXCHANGE) != 0) {
      perror("renameat2");
      return 1;
    }
  if (once)
    return 0;
  fputs("ready\n", stdout);
  fflush(stdout);
  /* A tight loop: pausing or yielding (tried) leaves the paths still for whole steps of the process
   * under test and lets races go unseen. The loop lives only as long as one arsync run. */
  for (;;)
    for (int i = 1; i < argc; i += 2)
      syscall(SYS_renameat2, AT_FDCWD, argv[i], AT_FDCWD, argv[i + 1], RENAME_EXCHANGE);
}
