/* Unaligned accesses through packed structs: gcc must use lwl/lwr/swl/swr (and byte ops for halves) since
 * MIPS lw/sw trap on misaligned addresses. Copies fields between differently-offset buffers and prints them. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct __attribute__((packed)) packet {
    uint8_t kind;
    uint32_t id;
    uint16_t len;
    int32_t delta;
    uint8_t pad[3];
    uint32_t crc;
};

struct __attribute__((packed)) unaligned_u32 {
    uint32_t v;
};

/* noinline + volatile offsets keep gcc from proving alignment. */
__attribute__((noinline)) static uint32_t load_at(const unsigned char *base, int offset) {
    return ((const struct unaligned_u32 *)(base + offset))->v;
}

__attribute__((noinline)) static void store_at(unsigned char *base, int offset, uint32_t v) {
    ((struct unaligned_u32 *)(base + offset))->v = v;
}

__attribute__((noinline)) static void copy_packets(struct packet *dst, const struct packet *src, int n) {
    for (int i = 0; i < n; i++) {
        dst[i].kind = src[i].kind ^ 0x5a;
        dst[i].id = src[i].id + 1;
        dst[i].len = src[i].len * 3;
        dst[i].delta = -src[i].delta;
        dst[i].crc = src[i].crc ^ src[i].id;
    }
}

static void dump(const unsigned char *p, int n) {
    for (int i = 0; i < n; i++) printf("%02x", p[i]);
    printf("\n");
}

int main(void) {
    unsigned char buf[64];
    for (int i = 0; i < 64; i++) buf[i] = (unsigned char)(i * 7 + 1);
    for (int off = 0; off < 8; off++) printf("load off %d: %08x\n", off, load_at(buf, off));
    for (int off = 0; off < 8; off++) {
        unsigned char tmp[16];
        memset(tmp, 0xee, sizeof tmp);
        store_at(tmp, off + 1, 0x11223344u + (uint32_t)off);
        printf("store off %d: ", off + 1);
        dump(tmp, 16);
    }
    static struct packet src[9], dst[9];
    printf("sizeof packet %zu\n", sizeof(struct packet));
    for (int i = 0; i < 9; i++) {
        src[i].kind = (uint8_t)i;
        src[i].id = 0x01020304u * (uint32_t)(i + 1);
        src[i].len = (uint16_t)(1000 + i);
        src[i].delta = -12345 * i;
        src[i].crc = 0xdeadbeefu - (uint32_t)i;
    }
    copy_packets(dst, src, 9);
    for (int i = 0; i < 9; i++)
        printf("pkt %d: kind %02x id %08x len %u delta %d crc %08x\n", i, dst[i].kind, dst[i].id, dst[i].len,
               dst[i].delta, dst[i].crc);
    dump((const unsigned char *)dst, (int)sizeof dst[0] * 2);
    return 0;
}
