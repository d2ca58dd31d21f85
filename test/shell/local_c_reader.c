/* A C program on libshmkv.so's C ABI (include/shmkv/local.h), compiled by
 * local_test.sh with the C compiler, to show the ABI is C: for each KEY it
 * prints "KEY KIND HEX" (the value's bytes in hex), "KEY not found" or
 * "KEY error -ERRNO". Exit status: 0 done, 3 the open failed (its errno printed). */
#include <shmkv/local.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  shmkv_local *reader = NULL;
  if (argc < 2) return 2;
  int rc = shmkv_local_open(argv[1], &reader);
  if (rc != 0) {
    printf("open %d\n", rc);
    return 3;
  }
  for (int i = 2; i < argc; i++) {
    char *value = NULL;
    size_t len = 0;
    int kind = -1;
    rc = shmkv_local_get(reader, argv[i], strlen(argv[i]), &value, &len, &kind);
    if (rc == 1) {
      printf("%s not found\n", argv[i]);
    } else if (rc < 0) {
      printf("%s error %d\n", argv[i], rc);
    } else {
      printf("%s %s ", argv[i], kind == SHMKV_BYTES ? "bytes" : kind == SHMKV_JSON ? "json" : "?");
      for (size_t j = 0; j < len; j++) printf("%02x", (unsigned char)value[j]);
      printf("\n");
      shmkv_free(value);
    }
  }
  shmkv_local_close(reader);
  return 0;
}
