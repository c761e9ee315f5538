/*
 * A zkVM guest for the C SDK (zkvm/c), not a Linux program: built by support::build_c_guest with start.S,
 * zkmips.c and link.ld. Tests the SDK's running SHA-256 of the public values.
 *
 * Input item 1: the bytes to commit. Item 2: piece lengths, one byte each; the message is committed in
 * pieces of those lengths (0 = an empty commit), then whatever is left in one last piece.
 * Stdout: zkmips_public_digest() in hex. Exit: return 0 from main, or zkmips_halt(5) when a third input item
 * exists.
 */
#include "zkmips.h"

static uint8_t message[4096];
static uint8_t pieces[256];

static uint32_t read_item(uint8_t *buf, uint32_t capacity)
{
    uint32_t len = zkmips_input_len();
    if (len == ZKMIPS_NO_MORE_ITEMS || len > capacity)
        zkmips_halt(3);
    zkmips_input_read(buf, len);
    return len;
}

int main(void)
{
    uint32_t len = read_item(message, sizeof message);
    uint32_t piece_count = read_item(pieces, sizeof pieces);
    uint32_t at = 0;
    for (uint32_t i = 0; i < piece_count && at < len; i++) {
        uint32_t n = pieces[i] < len - at ? pieces[i] : len - at;
        zkmips_commit(message + at, n);
        at += n;
    }
    zkmips_commit(message + at, len - at);

    uint8_t digest[32];
    char text[65];
    zkmips_public_digest(digest);
    for (int i = 0; i < 32; i++) {
        text[2 * i] = "0123456789abcdef"[digest[i] >> 4];
        text[2 * i + 1] = "0123456789abcdef"[digest[i] & 15];
    }
    text[64] = '\n';
    zkmips_write(ZKMIPS_STDOUT, text, sizeof text);
    if (zkmips_input_len() != ZKMIPS_NO_MORE_ITEMS)
        zkmips_halt(5);
    return 0;
}
