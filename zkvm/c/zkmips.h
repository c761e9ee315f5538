/*
 * zkmips guest support for C: static inline wrappers for the zkVM services.
 *
 * The numbers mirror the Rust crate zkmips-abi (abi/src/lib.rs), the single source of truth; a host test
 * (cli/tests/examples.rs) checks that the two agree. A service call puts the number in $v0 and arguments
 * in $a0..$a2; the result comes back in $v0.
 *
 * Build a guest with start.S, zkmips.c and link.ld from this directory:
 *   mipsel-linux-gnu-gcc -O2 -march=mips32r2 -nostdlib -ffreestanding -static -fno-pic -mno-abicalls \
 *       -I zkvm/c -T zkvm/c/link.ld zkvm/c/start.S zkvm/c/zkmips.c prog.c -lgcc -o prog.elf
 *
 * Public values: zkmips_commit() also feeds the bytes to a running SHA-256 (zkmips.c), and zkmips_halt()
 * (called by start.S when main returns) stores its digest at ZKMIPS_PUBLIC_DIGEST_ADDR before the HALT
 * service. The proof binds the public values through that region, so a guest must leave only through
 * zkmips_halt() or a return from main, and must not issue COMMIT or HALT through zkmips_syscall3 itself.
 */
#ifndef ZKMIPS_H
#define ZKMIPS_H

#define ZKMIPS_SYS_HALT 0x00010000
#define ZKMIPS_SYS_WRITE 0x00010001
#define ZKMIPS_SYS_COMMIT 0x00010002
#define ZKMIPS_SYS_INPUT_LEN 0x00010003
#define ZKMIPS_SYS_INPUT_READ 0x00010004
#define ZKMIPS_SYS_HINT_LEN 0x00010005
#define ZKMIPS_SYS_HINT_READ 0x00010006
#define ZKMIPS_SYS_HINT_WRITE 0x00010007
#define ZKMIPS_SYS_SHA256_EXTEND 0x00010100
#define ZKMIPS_SYS_SHA256_COMPRESS 0x00010101
#define ZKMIPS_SYS_KECCAK_PERMUTE 0x00010102

/* INPUT_LEN / HINT_LEN result when the stream has no item left. */
#define ZKMIPS_NO_MORE_ITEMS 0xffffffff

#define ZKMIPS_STDOUT 1
#define ZKMIPS_STDERR 2

/* Where zkmips_halt() publishes the SHA-256 of the public values: byte i of the digest at ADDR + i. */
#define ZKMIPS_PUBLIC_DIGEST_ADDR 0x00001000
#define ZKMIPS_PUBLIC_DIGEST_LEN 32

/* start.S includes this header for the numbers only. */
#ifndef __ASSEMBLER__

#include <stddef.h>
#include <stdint.h>

/*
 * Raw service call. The zkVM services only write $v0; $v1 and $a3 are declared clobbered as well because
 * Linux o32 calls through the same instruction set them.
 */
static inline uint32_t zkmips_syscall3(uint32_t number, uint32_t arg0, uint32_t arg1, uint32_t arg2)
{
    register uint32_t v0 __asm__("$2") = number;
    register uint32_t a0 __asm__("$4") = arg0;
    register uint32_t a1 __asm__("$5") = arg1;
    register uint32_t a2 __asm__("$6") = arg2;
    register uint32_t a3 __asm__("$7");
    __asm__ volatile("syscall" : "+r"(v0), "=r"(a3) : "r"(a0), "r"(a1), "r"(a2) : "$3", "memory");
    return v0;
}

/* Publishes the SHA-256 of the public values at ZKMIPS_PUBLIC_DIGEST_ADDR, then stops the machine; `code` is
 * the exit status (0 = success). Defined in zkmips.c. */
__attribute__((noreturn)) void zkmips_halt(uint32_t code);

/* Feeds committed bytes to the running SHA-256 of the public values (zkmips_commit does this). */
void zkmips_public_absorb(const void *buf, size_t len);

/* Writes the SHA-256 of the public values committed so far to `digest`: what zkmips_halt would publish. */
void zkmips_public_digest(uint8_t digest[32]);

/* Writes `len` bytes to host fd 1 (stdout) or 2 (stderr). Not part of the proof. */
static inline uint32_t zkmips_write(uint32_t fd, const void *buf, size_t len)
{
    if (len == 0)
        return 0;
    return zkmips_syscall3(ZKMIPS_SYS_WRITE, fd, (uint32_t)buf, (uint32_t)len);
}

/* Writes a NUL-terminated string to stdout. */
static inline void zkmips_print(const char *s)
{
    size_t len = 0;
    while (s[len] != '\0')
        len++;
    zkmips_write(ZKMIPS_STDOUT, s, len);
}

/* Appends `len` bytes to the public values (the proof binds their SHA-256 digest, see above). */
static inline void zkmips_commit(const void *buf, size_t len)
{
    if (len != 0) {
        zkmips_syscall3(ZKMIPS_SYS_COMMIT, (uint32_t)buf, (uint32_t)len, 0);
        zkmips_public_absorb(buf, len);
    }
}

/* Length of the next input item, or ZKMIPS_NO_MORE_ITEMS. */
static inline uint32_t zkmips_input_len(void)
{
    return zkmips_syscall3(ZKMIPS_SYS_INPUT_LEN, 0, 0, 0);
}

/* Copies the next input item to `buf` and consumes it; `len` must equal zkmips_input_len(). `buf` must be a
 * valid address even when `len` is 0. */
static inline void zkmips_input_read(void *buf, uint32_t len)
{
    zkmips_syscall3(ZKMIPS_SYS_INPUT_READ, (uint32_t)buf, len, 0);
}

/* Length of the next hint item, or ZKMIPS_NO_MORE_ITEMS. Hints are untrusted: check what you learn. */
static inline uint32_t zkmips_hint_len(void)
{
    return zkmips_syscall3(ZKMIPS_SYS_HINT_LEN, 0, 0, 0);
}

/* Copies the next hint item to `buf` and consumes it; `len` must equal zkmips_hint_len(). */
static inline void zkmips_hint_read(void *buf, uint32_t len)
{
    zkmips_syscall3(ZKMIPS_SYS_HINT_READ, (uint32_t)buf, len, 0);
}

/* Sends `len` bytes to the host's hint-output channel (not proven, not public). */
static inline void zkmips_hint_write(const void *buf, size_t len)
{
    if (len != 0)
        zkmips_syscall3(ZKMIPS_SYS_HINT_WRITE, (uint32_t)buf, (uint32_t)len, 0);
}

/* SHA-256 message schedule: fills w[16..64] from w[0..16]. */
static inline void zkmips_sha256_extend(uint32_t w[64])
{
    zkmips_syscall3(ZKMIPS_SYS_SHA256_EXTEND, (uint32_t)w, 0, 0);
}

/* SHA-256 compression of the schedule `w` into `state`, in place. */
static inline void zkmips_sha256_compress(const uint32_t w[64], uint32_t state[8])
{
    zkmips_syscall3(ZKMIPS_SYS_SHA256_COMPRESS, (uint32_t)w, (uint32_t)state, 0);
}

/* keccak-f[1600] on 25 little-endian lanes, in place. */
static inline void zkmips_keccak_permute(uint64_t state[25])
{
    zkmips_syscall3(ZKMIPS_SYS_KECCAK_PERMUTE, (uint32_t)state, 0, 0);
}

#endif /* !__ASSEMBLER__ */
#endif /* ZKMIPS_H */
