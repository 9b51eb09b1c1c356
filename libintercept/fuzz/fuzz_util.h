/* Shared by the fuzz targets: a reader over the fuzzer's input that never runs past its end
 * (missing bytes read as zero), and a check that stops the run on a broken invariant. */
#ifndef GSI_FUZZ_UTIL_H
#define GSI_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t left;
} fuzz_reader;

static inline uint8_t fuzz_byte(fuzz_reader *r)
{
    if (r->left == 0)
        return 0;
    r->left--;
    return *r->data++;
}

/* Copies `len` bytes (zero-filled past the end of the input). */
static inline void fuzz_bytes(fuzz_reader *r, uint8_t *out, size_t len)
{
    size_t have = len < r->left ? len : r->left;
    memcpy(out, r->data, have);
    memset(out + have, 0, len - have);
    r->data += have;
    r->left -= have;
}

/* The next field up to `sep` (or the end) as a NUL-terminated string in `out`; a field
 * longer than `size - 1` is cut. */
static inline void fuzz_field(fuzz_reader *r, char sep, char *out, size_t size)
{
    size_t n = 0;
    while (r->left > 0 && *r->data != (uint8_t)sep) {
        if (n + 1 < size)
            out[n++] = (char)*r->data;
        r->data++;
        r->left--;
    }
    if (r->left > 0) { /* skip the separator */
        r->data++;
        r->left--;
    }
    out[n] = '\0';
}

/* A new directory for a target's files, under $TMPDIR (fuzz.py points it at a scratch
 * directory it removes afterwards) or /tmp; the path stays valid for the process. */
static inline const char *fuzz_tempdir(const char *name)
{
    static char dir[4096];
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/gsi-%s-XXXXXX", base && *base ? base : "/tmp", name);
    if (mkdtemp(dir) == NULL)
        abort();
    return dir;
}

#define FUZZ_CHECK(cond, ...)                                                                   \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            fprintf(stderr, "invariant broken: %s: ", #cond);                                   \
            fprintf(stderr, __VA_ARGS__);                                                       \
            fputc('\n', stderr);                                                                \
            abort();                                                                            \
        }                                                                                       \
    } while (0)

#endif
