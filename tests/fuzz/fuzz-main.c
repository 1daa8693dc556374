/* SPDX-License-Identifier: Apache-2.0 */
/* Replays every file of a corpus directory (or the files given) through a libFuzzer target,
 * for builds without libFuzzer. A crash or sanitizer report fails the test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        if (!f) {
                perror(path);
                return 1;
        }
        size_t cap = 1 << 16, len = 0;
        uint8_t *data = malloc(cap);
        size_t n;
        while (data && (n = fread(data + len, 1, cap - len, f)) > 0) {
                len += n;
                if (len == cap)
                        data = realloc(data, cap *= 2);
        }
        fclose(f);
        if (!data)
                return 1;
        (void) LLVMFuzzerTestOneInput(data, len);
        free(data);
        return 0;
}

int main(int argc, char **argv)
{
        int runs = 0;
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        perror(argv[i]);
                        return 1;
                }
                if (!S_ISDIR(st.st_mode)) {
                        if (run_file(argv[i]))
                                return 1;
                        runs++;
                        continue;
                }
                struct dirent **names;
                int n = scandir(argv[i], &names, NULL, alphasort);
                if (n < 0) {
                        perror(argv[i]);
                        return 1;
                }
                for (int j = 0; j < n; j++) {
                        if (names[j]->d_name[0] != '.') {
                                size_t len = strlen(argv[i]) + strlen(names[j]->d_name) + 2;
                                char *p = malloc(len);
                                snprintf(p, len, "%s/%s", argv[i], names[j]->d_name);
                                if (run_file(p))
                                        return 1;
                                runs++;
                                free(p);
                        }
                        free(names[j]);
                }
                free(names);
        }
        printf("replayed %d inputs\n", runs);
        return runs > 0 ? 0 : 1;
}
