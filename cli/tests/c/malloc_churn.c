/* Heap churn: many malloc/calloc/realloc/free calls of varying sizes with content checks and checksums.
 * Exercises brk, mmap/munmap/mremap (blocks above glibc's 128 KiB mmap threshold) and malloc's bookkeeping. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng = 12345;
static uint32_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* Large blocks are touched at a sparse stride so the program stays a few million instructions long. */
static size_t stride_for(size_t size) { return size > 4096 ? 251 : 1; }

static unsigned char pattern(unsigned slot, size_t i) { return (unsigned char)(slot * 7 + i); }

static void fill(unsigned char *p, size_t from, size_t to, unsigned slot) {
    for (size_t i = from; i < to; i += stride_for(to)) p[i] = pattern(slot, i);
    if (to > from) p[to - 1] = pattern(slot, to - 1);
}

#define SLOTS 97

int main(void) {
    unsigned char *blocks[SLOTS] = {0};
    size_t sizes[SLOTS] = {0};
    uint32_t checksum = 0;
    for (int round = 0; round < 2000; round++) {
        unsigned slot = next() % SLOTS;
        uint32_t r = next();
        if (blocks[slot] && (r & 3) == 0) {
            for (size_t i = 0; i < sizes[slot]; i += stride_for(sizes[slot])) checksum = checksum * 31 + blocks[slot][i];
            free(blocks[slot]);
            blocks[slot] = NULL;
            sizes[slot] = 0;
        } else if (blocks[slot]) {
            size_t new_size = (r & 0x300) == 0x300 ? 150000 + next() % 90000 : 1 + next() % 700;
            unsigned char *p = realloc(blocks[slot], new_size);
            if (!p) return 10;
            size_t keep = sizes[slot] < new_size ? sizes[slot] : new_size;
            size_t step = stride_for(sizes[slot]);
            for (size_t i = 0; i < keep; i += step)
                if (p[i] != pattern(slot, i)) {
                    printf("realloc lost data in slot %u at %zu\n", slot, i);
                    return 11;
                }
            /* Re-fill everything: the old block may have had a different stride. */
            fill(p, 0, new_size, slot);
            blocks[slot] = p;
            sizes[slot] = new_size;
        } else {
            size_t size = (r >> 8) % 13 == 0 ? 140000 + next() % 100000 : 1 + next() % 512;
            int zeroed = (r & 16) != 0;
            unsigned char *p = zeroed ? calloc(size, 1) : malloc(size);
            if (!p) return 12;
            if (zeroed)
                for (size_t i = 0; i < size; i += stride_for(size))
                    if (p[i] != 0) return 13;
            fill(p, 0, size, slot);
            blocks[slot] = p;
            sizes[slot] = size;
        }
        if (round % 250 == 0) printf("round %d checksum %08x\n", round, checksum);
    }
    size_t live = 0;
    for (int i = 0; i < SLOTS; i++) {
        live += sizes[i];
        free(blocks[i]);
    }
    char *s = strdup("duplicated string");
    printf("strdup [%s]\n", s);
    free(s);
    printf("final checksum %08x live bytes %zu\n", checksum, live);
    return 0;
}
