/*
 * zkmips C example: Adler-32 checksum of the input.
 *
 * Input: one item, the message (any bytes, up to 1 MiB).
 * Public values: the message length and its Adler-32, each as a 4-byte little-endian integer.
 * Exit code: 0, or 3 when the input is missing or too large (with a message on stderr).
 */
#include "zkmips.h"

#define MAX_INPUT (1u << 20)
#define ADLER_MOD 65521u
/* Largest n with 255 n (n + 1) / 2 + (n + 1) (ADLER_MOD - 1) < 2^32: the sums fit in 32 bits for n bytes,
 * so the modulo runs once per block instead of once per byte. */
#define ADLER_BLOCK 5552u

static uint8_t input[MAX_INPUT];

static uint32_t adler32(const uint8_t *data, uint32_t len)
{
    uint32_t a = 1, b = 0;
    while (len > 0) {
        uint32_t n = len < ADLER_BLOCK ? len : ADLER_BLOCK;
        len -= n;
        while (n-- > 0) {
            a += *data++;
            b += a;
        }
        a %= ADLER_MOD;
        b %= ADLER_MOD;
    }
    return (b << 16) | a;
}

/* Appends the decimal digits of `value` at `out`; returns the new end. */
static char *put_decimal(char *out, uint32_t value)
{
    char digits[10];
    int count = 0;
    do {
        digits[count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (count > 0)
        *out++ = digits[--count];
    return out;
}

static char *put_hex32(char *out, uint32_t value)
{
    for (int shift = 28; shift >= 0; shift -= 4)
        *out++ = "0123456789abcdef"[(value >> shift) & 0xf];
    return out;
}

static char *put_string(char *out, const char *s)
{
    while (*s != '\0')
        *out++ = *s++;
    return out;
}

int main(void)
{
    uint32_t len = zkmips_input_len();
    if (len == ZKMIPS_NO_MORE_ITEMS) {
        static const char message[] = "c-sum: no input item (pass one with --input)\n";
        zkmips_write(ZKMIPS_STDERR, message, sizeof message - 1);
        return 3;
    }
    if (len > MAX_INPUT) {
        static const char message[] = "c-sum: the input item is larger than 1 MiB\n";
        zkmips_write(ZKMIPS_STDERR, message, sizeof message - 1);
        return 3;
    }
    zkmips_input_read(input, len);

    uint32_t checksum = adler32(input, len);
    /* mipsel is little-endian, so the integers' memory images are the committed encoding. */
    zkmips_commit(&len, sizeof len);
    zkmips_commit(&checksum, sizeof checksum);

    char line[64];
    char *end = put_string(line, "adler32(");
    end = put_decimal(end, len);
    end = put_string(end, " bytes) = 0x");
    end = put_hex32(end, checksum);
    *end++ = '\n';
    zkmips_write(ZKMIPS_STDOUT, line, (size_t)(end - line));
    return 0;
}
