/* A read(2)/write(2) loop with a small odd-sized buffer: copies stdin to stdout with ROT13 applied, then
 * reports the byte count and a checksum on stderr. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
    char buf[37];
    ssize_t r;
    unsigned long total = 0, reads = 0;
    uint32_t sum = 0;
    while ((r = read(0, buf, sizeof buf)) > 0) {
        reads++;
        for (ssize_t i = 0; i < r; i++) {
            char c = buf[i];
            if ((c >= 'a' && c <= 'm') || (c >= 'A' && c <= 'M')) c += 13;
            else if ((c >= 'n' && c <= 'z') || (c >= 'N' && c <= 'Z')) c -= 13;
            buf[i] = c;
            sum = sum * 31 + (unsigned char)c;
        }
        for (ssize_t done = 0; done < r;) {
            ssize_t w = write(1, buf + done, (size_t)(r - done));
            if (w <= 0) return 1;
            done += w;
        }
        total += (unsigned long)r;
    }
    fprintf(stderr, "rot13: %lu bytes in %lu reads, checksum %08x, last read %zd\n", total, reads, sum, r);
    return 0;
}
