/* string.h on buffers at every alignment: glibc's MIPS memcpy/memset/memmove use lwl/lwr/swl/swr and
 * word loops with different head/tail paths per alignment, and pref. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned char src[600], dst[600];

static uint32_t digest(const unsigned char *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

int main(void) {
    for (int i = 0; i < 600; i++) src[i] = (unsigned char)(i * 37 + 11);
    uint32_t all = 0;
    static const size_t lens[] = {0, 1, 3, 4, 7, 8, 15, 16, 31, 33, 64, 127, 255, 300, 511};
    for (int so = 0; so < 4; so++)
        for (int dof = 0; dof < 4; dof++)
            for (unsigned k = 0; k < sizeof lens / sizeof lens[0]; k++) {
                memset(dst, 0xcc, sizeof dst);
                memcpy(dst + dof, src + so, lens[k]);
                if (memcmp(dst + dof, src + so, lens[k]) != 0) {
                    printf("memcpy mismatch so %d do %d len %zu\n", so, dof, lens[k]);
                    return 1;
                }
                all = all * 3 + digest(dst, sizeof dst);
            }
    printf("memcpy digest %08x\n", all);

    for (int shift = -9; shift <= 9; shift += 3) {
        memcpy(dst, src, sizeof dst);
        memmove(dst + 50 + shift, dst + 50, 400);
        printf("memmove shift %d digest %08x\n", shift, digest(dst, sizeof dst));
    }
    for (int off = 0; off < 4; off++) {
        memset(dst + off, 'a' + off, 77);
        printf("memset off %d digest %08x\n", off, digest(dst, 100));
    }

    char text[80];
    for (int off = 0; off < 8; off++) {
        memset(text, 0, sizeof text);
        const char *msg = "The quick brown fox jumps over the lazy dog";
        strcpy(text + off, msg);
        printf("off %d strlen %zu strchr %td strrchr %td strstr %td cmp %d ncmp %d\n", off, strlen(text + off),
               strchr(text + off, 'q') - (text + off), strrchr(text + off, 'o') - (text + off),
               strstr(text + off, "lazy") - (text + off), strcmp(text + off, "The quick") > 0,
               strncmp(text + off, "The quick", 9));
    }
    char joined[64] = "alpha";
    strcat(joined, "-beta");
    const char *volatile more = "-gamma-delta";
    strncat(joined, more, 6);
    printf("joined [%s] spn %zu cspn %zu\n", joined, strspn(joined, "abhlp"), strcspn(joined, "-"));
    char tok[] = "one,two,,three";
    char *save;
    for (char *t = strtok_r(tok, ",", &save); t; t = strtok_r(NULL, ",", &save)) printf("token [%s]\n", t);
    printf("memchr %td\n", (unsigned char *)memchr(src, src[123], 600) - src);
    return 0;
}
