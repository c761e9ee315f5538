/* qsort of structs with a multi-key comparator, then bsearch for present and missing keys. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct record {
    int32_t key;
    uint16_t tag;
    char name[10];
};

static int by_key_then_name(const void *a, const void *b) {
    const struct record *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    int by_name = strcmp(x->name, y->name);
    if (by_name != 0) return by_name;
    /* A total order: glibc picks merge sort or quicksort depending on sysinfo(), and only a total order
     * makes both give the same result. */
    return (x->tag > y->tag) - (x->tag < y->tag);
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

#define N 2000

int main(void) {
    static struct record recs[N];
    uint32_t seed = 2463534242u;
    for (int i = 0; i < N; i++) {
        seed = seed * 1664525u + 1013904223u;
        recs[i].key = (int32_t)(seed >> 8) % 5000 - 2500;
        recs[i].tag = (uint16_t)i;
        snprintf(recs[i].name, sizeof recs[i].name, "n%05u", (seed >> 3) % 100000);
    }
    qsort(recs, N, sizeof recs[0], by_key_then_name);
    uint32_t h = 0;
    for (int i = 0; i < N; i++) {
        if (i > 0 && by_key_then_name(&recs[i - 1], &recs[i]) > 0) {
            printf("not sorted at %d\n", i);
            return 1;
        }
        h = h * 33 ^ (uint32_t)recs[i].key ^ recs[i].tag;
    }
    printf("first %d %s last %d %s hash %08x\n", recs[0].key, recs[0].name, recs[N - 1].key, recs[N - 1].name, h);
    for (int i = 0; i < N; i += 97) printf("rec[%d] = {%d, %u, %s}\n", i, recs[i].key, recs[i].tag, recs[i].name);

    static int keys[N];
    for (int i = 0; i < N; i++) keys[i] = recs[i].key * 3;
    qsort(keys, N, sizeof keys[0], cmp_int);
    int found = 0, missed = 0;
    for (int probe = -8000; probe <= 8000; probe += 7) {
        int *p = bsearch(&probe, keys, N, sizeof keys[0], cmp_int);
        if (p) {
            found++;
            if (*p != probe) return 2;
        } else {
            missed++;
        }
    }
    printf("bsearch found %d missed %d\n", found, missed);
    return 0;
}
