// fsutil: a few file commands for trying volumes, run in order: `fsutil CMD ARGS [; CMD ARGS]...`
//   mkdir DIR | ln -s TARGET LINK | mv FROM TO | rm PATH | write FILE TEXT | cat FILE | ls DIR | readlink LINK
// Prints what it did; on the first failure prints the error (strerror) and exits 1.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *what, const char *path) {
  fprintf(stderr, "fsutil: %s %s: %s\n", what, path, strerror(errno));
  return 1;
}

static int cat(const char *path) {
  FILE *in = fopen(path, "r");
  if (!in) return fail("cat", path);
  char buffer[512];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, in)) > 0) fwrite(buffer, 1, n, stdout);
  fclose(in);
  return 0;
}

static int ls(const char *path) {
  DIR *dir = opendir(path);
  if (!dir) return fail("ls", path);
  struct dirent *entry;
  while ((entry = readdir(dir)) != NULL) {
    if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) printf("%s\n", entry->d_name);
  }
  closedir(dir);
  return 0;
}

static int write_file(const char *path, const char *text) {
  FILE *out = fopen(path, "w");
  if (!out) return fail("write", path);
  fprintf(out, "%s\n", text);
  return fclose(out) == 0 ? 0 : fail("write", path);
}

// one command of `argc` words; returns 0, 1 (failed) or 2 (usage)
static int run(int argc, char **argv) {
  const char *cmd = argv[0];
  if (argc == 2 && strcmp(cmd, "mkdir") == 0) return mkdir(argv[1], 0755) == 0 ? 0 : fail("mkdir", argv[1]);
  if (argc == 4 && strcmp(cmd, "ln") == 0 && strcmp(argv[1], "-s") == 0) return symlink(argv[2], argv[3]) == 0 ? 0 : fail("ln -s", argv[3]);
  if (argc == 3 && strcmp(cmd, "mv") == 0) return rename(argv[1], argv[2]) == 0 ? 0 : fail("mv", argv[1]);
  if (argc == 2 && strcmp(cmd, "rm") == 0) return remove(argv[1]) == 0 ? 0 : fail("rm", argv[1]);
  if (argc == 3 && strcmp(cmd, "write") == 0) return write_file(argv[1], argv[2]);
  if (argc == 2 && strcmp(cmd, "cat") == 0) return cat(argv[1]);
  if (argc == 2 && strcmp(cmd, "ls") == 0) return ls(argv[1]);
  if (argc == 2 && strcmp(cmd, "readlink") == 0) {
    char target[512];
    ssize_t n = readlink(argv[1], target, sizeof target - 1);
    if (n < 0) return fail("readlink", argv[1]);
    target[n] = '\0';
    printf("%s\n", target);
    return 0;
  }
  fprintf(stderr, "fsutil: unknown command or wrong arguments: %s\n", cmd);
  return 2;
}

int main(int argc, char **argv) {
  int start = 1;
  for (int i = 1; i <= argc; i++) {
    if (i < argc && strcmp(argv[i], ";") != 0) continue;
    if (i > start) {
      int status = run(i - start, argv + start);
      if (status != 0) return status;
    }
    start = i + 1;
  }
  return 0;
}
