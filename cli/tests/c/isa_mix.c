/* Every integer MIPS32r2 user-mode instruction, one inline-asm wrapper each, run over edge-case and
 * pseudo-random operands. Each instruction's results are folded into a hash that is printed with its name,
 * so a wrong result names the instruction. Branches report whether they were taken and whether their delay
 * slot ran (branch-likely instructions annul the slot when not taken); link instructions report the link
 * distance. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint32_t (*binary_fn)(uint32_t, uint32_t);

#define R3(name, insn)                                                                                        \
    static uint32_t name(uint32_t a, uint32_t b) {                                                            \
        uint32_t r;                                                                                           \
        __asm__(insn " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));                                               \
        return r;                                                                                             \
    }
/* Shift-variable forms take the shift amount first: sllv rd, rt, rs. */
#define SHIFTV(name, insn)                                                                                    \
    static uint32_t name(uint32_t a, uint32_t b) {                                                            \
        uint32_t r;                                                                                           \
        __asm__(insn " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));                                               \
        return r;                                                                                             \
    }
#define IMM(name, insn, imm)                                                                                  \
    static uint32_t name(uint32_t a, uint32_t b) {                                                            \
        uint32_t r;                                                                                           \
        (void)b;                                                                                              \
        __asm__(insn " %0, %1, " #imm : "=r"(r) : "r"(a));                                                    \
        return r;                                                                                             \
    }
#define UNARY(name, insn)                                                                                     \
    static uint32_t name(uint32_t a, uint32_t b) {                                                            \
        uint32_t r;                                                                                           \
        (void)b;                                                                                              \
        __asm__(insn " %0, %1" : "=r"(r) : "r"(a));                                                           \
        return r;                                                                                             \
    }
/* movn/movz/ins read their destination: start it from a known value. */
#define MOVC(name, insn)                                                                                      \
    static uint32_t name(uint32_t a, uint32_t b) {                                                            \
        uint32_t r = 0x5a5a5a5a;                                                                              \
        __asm__(insn " %0, %1, %2" : "+r"(r) : "r"(a), "r"(b & 3 ? b : 0));                                   \
        return r;                                                                                             \
    }
#define EXT(name, pos, size)                                                                                  \
    static uint32_t name(uint32_t a, uint32_t b) {                                                            \
        uint32_t r;                                                                                           \
        (void)b;                                                                                              \
        __asm__("ext %0, %1, " #pos ", " #size : "=r"(r) : "r"(a));                                           \
        return r;                                                                                             \
    }
#define INS(name, pos, size)                                                                                  \
    static uint32_t name(uint32_t a, uint32_t b) {                                                            \
        uint32_t r = b;                                                                                       \
        __asm__("ins %0, %1, " #pos ", " #size : "+r"(r) : "r"(a));                                           \
        return r;                                                                                             \
    }
/* HI/LO producers: returns hi ^ rotl(lo, 1) so both halves count. */
#define HILO(name, insn)                                                                                      \
    static uint32_t name(uint32_t a, uint32_t b) {                                                            \
        uint32_t hi, lo;                                                                                      \
        __asm__(insn " %2, %3\n mfhi %0\n mflo %1" : "=r"(hi), "=r"(lo) : "r"(a), "r"(b) : "hi", "lo");       \
        return hi ^ (lo << 1 | lo >> 31);                                                                     \
    }
/* Accumulators: preload HI:LO with values derived from the operands. */
#define ACC(name, insn)                                                                                       \
    static uint32_t name(uint32_t a, uint32_t b) {                                                            \
        uint32_t hi, lo;                                                                                      \
        __asm__("mthi %2\n mtlo %3\n" insn " %2, %3\n mfhi %0\n mflo %1"                                      \
                : "=r"(hi), "=r"(lo)                                                                          \
                : "r"(a), "r"(b)                                                                              \
                : "hi", "lo");                                                                                \
        return hi ^ (lo << 1 | lo >> 31);                                                                     \
    }
/* Two-register branches: 1 = taken (slot ran), 17 = not taken (slot and fall-through ran),
 * 16 = not taken with the slot annulled (branch-likely). */
#define BR2(name, insn)                                                                                       \
    static uint32_t name(uint32_t a, uint32_t b) {                                                            \
        uint32_t r;                                                                                           \
        __asm__(".set push\n.set noreorder\n move %0, $zero\n" insn " %1, %2, 1f\n addiu %0, %0, 1\n"         \
                " addiu %0, %0, 16\n1:\n.set pop"                                                             \
                : "=&r"(r)                                                                                    \
                : "r"(a), "r"(b));                                                                            \
        return r;                                                                                             \
    }
#define BR1(name, insn)                                                                                       \
    static uint32_t name(uint32_t a, uint32_t b) {                                                            \
        uint32_t r;                                                                                           \
        (void)b;                                                                                              \
        __asm__(".set push\n.set noreorder\n move %0, $zero\n" insn " %1, 1f\n addiu %0, %0, 1\n"             \
                " addiu %0, %0, 16\n1:\n.set pop"                                                             \
                : "=&r"(r)                                                                                    \
                : "r"(a));                                                                                    \
        return r;                                                                                             \
    }
/* Branch-and-link: also returns the link register minus the branch's own address (always 8: the link is
 * written whether or not the branch is taken). */
#define BRLINK(name, insn)                                                                                    \
    static uint32_t name(uint32_t a, uint32_t b) {                                                            \
        uint32_t r, here;                                                                                     \
        (void)b;                                                                                              \
        __asm__(".set push\n.set noreorder\n"                                                                 \
                " bal 0f\n nop\n0: move %1, $ra\n"                                                            \
                " move %0, $zero\n" insn " %2, 1f\n addiu %0, %0, 1\n addiu %0, %0, 16\n1:\n"                 \
                " subu $ra, $ra, %1\n sll $ra, $ra, 8\n addu %0, %0, $ra\n.set pop"                           \
                : "=&r"(r), "=&r"(here)                                                                       \
                : "r"(a)                                                                                      \
                : "ra");                                                                                      \
        return r;                                                                                             \
    }

R3(op_addu, "addu")
R3(op_subu, "subu")
R3(op_and, "and")
R3(op_or, "or")
R3(op_xor, "xor")
R3(op_nor, "nor")
R3(op_slt, "slt")
R3(op_sltu, "sltu")
R3(op_mul, "mul")
SHIFTV(op_sllv, "sllv")
SHIFTV(op_srlv, "srlv")
SHIFTV(op_srav, "srav")
SHIFTV(op_rotrv, "rotrv")
MOVC(op_movn, "movn")
MOVC(op_movz, "movz")
IMM(op_sll0, "sll", 0)
IMM(op_sll1, "sll", 1)
IMM(op_sll31, "sll", 31)
IMM(op_srl7, "srl", 7)
IMM(op_srl31, "srl", 31)
IMM(op_sra1, "sra", 1)
IMM(op_sra31, "sra", 31)
IMM(op_rotr0, "rotr", 0)
IMM(op_rotr1, "rotr", 1)
IMM(op_rotr13, "rotr", 13)
IMM(op_rotr31, "rotr", 31)
IMM(op_addiu_neg, "addiu", -32768)
IMM(op_addiu_pos, "addiu", 32767)
IMM(op_slti_neg, "slti", -5)
IMM(op_slti_pos, "slti", 100)
IMM(op_sltiu_neg, "sltiu", -5)
IMM(op_sltiu_pos, "sltiu", 100)
IMM(op_andi, "andi", 0xf0f0)
IMM(op_ori, "ori", 0x8001)
IMM(op_xori, "xori", 0xffff)
UNARY(op_clz, "clz")
UNARY(op_clo, "clo")
UNARY(op_seb, "seb")
UNARY(op_seh, "seh")
UNARY(op_wsbh, "wsbh")
EXT(op_ext_0_1, 0, 1)
EXT(op_ext_0_32, 0, 32)
EXT(op_ext_5_10, 5, 10)
EXT(op_ext_31_1, 31, 1)
EXT(op_ext_16_16, 16, 16)
INS(op_ins_0_1, 0, 1)
INS(op_ins_0_32, 0, 32)
INS(op_ins_5_10, 5, 10)
INS(op_ins_31_1, 31, 1)
INS(op_ins_8_16, 8, 16)
HILO(op_mult, "mult")
HILO(op_multu, "multu")
ACC(op_madd, "madd")
ACC(op_maddu, "maddu")
ACC(op_msub, "msub")
ACC(op_msubu, "msubu")
BR2(op_beq, "beq")
BR2(op_bne, "bne")
BR2(op_beql, "beql")
BR2(op_bnel, "bnel")
BR1(op_blez, "blez")
BR1(op_bgtz, "bgtz")
BR1(op_bltz, "bltz")
BR1(op_bgez, "bgez")
BR1(op_blezl, "blezl")
BR1(op_bgtzl, "bgtzl")
BR1(op_bltzl, "bltzl")
BR1(op_bgezl, "bgezl")
BRLINK(op_bltzal, "bltzal")
BRLINK(op_bgezal, "bgezal")
BRLINK(op_bltzall, "bltzall")
BRLINK(op_bgezall, "bgezall")

/* div/divu with the operands C guarantees are defined (no zero divisor, no INT_MIN / -1). */
static uint32_t op_div(uint32_t a, uint32_t b) {
    if (b == 0 || (a == 0x80000000u && b == 0xffffffffu)) b = 3;
    uint32_t hi, lo;
    __asm__("div $zero, %2, %3\n mfhi %0\n mflo %1" : "=r"(hi), "=r"(lo) : "r"(a), "r"(b) : "hi", "lo");
    return hi ^ (lo << 1 | lo >> 31);
}
static uint32_t op_divu(uint32_t a, uint32_t b) {
    if (b == 0) b = 7;
    uint32_t hi, lo;
    __asm__("divu $zero, %2, %3\n mfhi %0\n mflo %1" : "=r"(hi), "=r"(lo) : "r"(a), "r"(b) : "hi", "lo");
    return hi ^ (lo << 1 | lo >> 31);
}
/* The trapping add/addi/sub, on operands that cannot overflow. */
static uint32_t op_add(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("add %0, %1, %2" : "=r"(r) : "r"((uint32_t)((int32_t)a >> 2)), "r"((uint32_t)((int32_t)b >> 2)));
    return r;
}
static uint32_t op_sub(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("sub %0, %1, %2" : "=r"(r) : "r"((uint32_t)((int32_t)a >> 2)), "r"((uint32_t)((int32_t)b >> 2)));
    return r;
}
static uint32_t op_addi(uint32_t a, uint32_t b) {
    uint32_t r;
    (void)b;
    __asm__("addi %0, %1, -1234" : "=r"(r) : "r"((uint32_t)((int32_t)a >> 2)));
    return r;
}
/* Conditional traps with operands that never trap. */
static uint32_t op_traps(uint32_t a, uint32_t b) {
    uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
    if (lo == hi) hi = lo + 1 == 0 ? lo : lo + 1;
    if (lo == hi) lo = hi - 1;
    __asm__ volatile("teq %0, %1\n tne %0, %0\n tgeu %0, %1\n tltu %1, %0\n teqi %0, -1\n tnei $zero, 0"
                     :
                     : "r"(lo), "r"(hi));
    return lo ^ hi;
}
static uint32_t op_lui(uint32_t a, uint32_t b) {
    uint32_t r1, r2;
    (void)a;
    (void)b;
    __asm__("lui %0, 0x8765\n lui %1, 0x1" : "=r"(r1), "=r"(r2));
    return r1 ^ r2;
}

static const struct {
    const char *name;
    binary_fn fn;
} OPS[] = {
#define OP(n) {#n + 3, n}
    OP(op_addu),     OP(op_subu),     OP(op_and),      OP(op_or),       OP(op_xor),      OP(op_nor),
    OP(op_slt),      OP(op_sltu),     OP(op_mul),      OP(op_sllv),     OP(op_srlv),     OP(op_srav),
    OP(op_rotrv),    OP(op_movn),     OP(op_movz),     OP(op_sll0),     OP(op_sll1),     OP(op_sll31),
    OP(op_srl7),     OP(op_srl31),    OP(op_sra1),     OP(op_sra31),    OP(op_rotr0),    OP(op_rotr1),
    OP(op_rotr13),   OP(op_rotr31),   OP(op_addiu_neg), OP(op_addiu_pos), OP(op_slti_neg), OP(op_slti_pos),
    OP(op_sltiu_neg), OP(op_sltiu_pos), OP(op_andi),   OP(op_ori),      OP(op_xori),     OP(op_clz),
    OP(op_clo),      OP(op_seb),      OP(op_seh),      OP(op_wsbh),     OP(op_ext_0_1),  OP(op_ext_0_32),
    OP(op_ext_5_10), OP(op_ext_31_1), OP(op_ext_16_16), OP(op_ins_0_1), OP(op_ins_0_32), OP(op_ins_5_10),
    OP(op_ins_31_1), OP(op_ins_8_16), OP(op_mult),     OP(op_multu),    OP(op_madd),     OP(op_maddu),
    OP(op_msub),     OP(op_msubu),    OP(op_beq),      OP(op_bne),      OP(op_beql),     OP(op_bnel),
    OP(op_blez),     OP(op_bgtz),     OP(op_bltz),     OP(op_bgez),     OP(op_blezl),    OP(op_bgtzl),
    OP(op_bltzl),    OP(op_bgezl),    OP(op_bltzal),   OP(op_bgezal),   OP(op_bltzall),  OP(op_bgezall),
    OP(op_div),      OP(op_divu),     OP(op_add),      OP(op_sub),      OP(op_addi),     OP(op_traps),
    OP(op_lui),
#undef OP
};

/* Loads and stores at every byte offset of an aligned buffer, including the unaligned-access pairs, which
 * merge into the destination register's old value. */
static uint32_t memory_ops(uint32_t seed) {
    uint32_t h = 0;
    union {
        uint32_t words[4];
        uint8_t bytes[16];
    } buf;
    for (int off = 0; off < 8; off++) {
        for (int i = 0; i < 4; i++) buf.words[i] = seed * (uint32_t)(i + 1) ^ 0x89abcdefu;
        uint8_t *p = buf.bytes + off;
        uint32_t l = 0x11223344u ^ seed, r = 0x55667788u ^ seed, b, bu, hs = 0, hu = 0;
        __asm__("lwl %0, 3(%2)\n lwr %1, 0(%2)" : "+r"(l), "+r"(r) : "r"(p), "m"(buf));
        __asm__("lb %0, 0(%2)\n lbu %1, 1(%2)" : "=r"(b), "=r"(bu) : "r"(p), "m"(buf));
        if ((off & 1) == 0) __asm__("lh %0, 0(%2)\n lhu %1, 2(%2)" : "=r"(hs), "=r"(hu) : "r"(p), "m"(buf));
        h = h * 0x01000193u ^ l ^ (r << 3) ^ (b << 7) ^ (bu << 11) ^ (hs << 13) ^ (hu << 17);
        __asm__ volatile("swl %1, 3(%0)\n swr %1, 4(%0)\n sb %1, 8(%0)" : : "r"(p), "r"(seed ^ 0xa5a5a5a5u) : "memory");
        if ((off & 1) == 0) __asm__ volatile("sh %1, 6(%0)" : : "r"(p), "r"(seed) : "memory");
        if ((off & 3) == 0) {
            uint32_t loaded, ok, value = seed + 1;
            __asm__ volatile("ll %0, 4(%2)\n move %1, %3\n sc %1, 4(%2)\n sync\n pref 0, 0(%2)"
                             : "=&r"(loaded), "=&r"(ok)
                             : "r"(p), "r"(value)
                             : "memory");
            h ^= loaded * 3 + ok;
        }
        for (int i = 0; i < 4; i++) h = h * 31 + buf.words[i];
    }
    return h;
}

/* argv[1] = number of pseudo-random operands (default 120), argv[2] = stride over the second operand
 * (default 7): the lockstep test uses a smaller run. */
int main(int argc, char **argv) {
    static const uint32_t edges[] = {0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
                                     31, 32, 33, 0x7fffffff, 0x80000000u, 0x80000001u, 0xfffffffeu, 0xffffffffu,
                                     0x12345678, 0xdeadbeefu};
    enum { EDGES = sizeof edges / sizeof edges[0], MAX_RANDOM = 120 };
    int random = argc > 1 ? atoi(argv[1]) : MAX_RANDOM;
    int stride = argc > 2 ? atoi(argv[2]) : 7;
    if (random < 0 || random > MAX_RANDOM || stride < 1) return 2;
    uint32_t operands[EDGES + MAX_RANDOM];
    memcpy(operands, edges, sizeof edges);
    uint32_t x = 0x2545f491;
    for (int i = 0; i < random; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        operands[EDGES + i] = i % 3 == 0 ? x >> (x & 31) : x;
    }
    const int n = EDGES + random;
    for (unsigned k = 0; k < sizeof OPS / sizeof OPS[0]; k++) {
        uint32_t h = 0x811c9dc5u;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j += stride) h = (h ^ OPS[k].fn(operands[i], operands[j])) * 0x01000193u;
        printf("%-10s %08x  e.g. (%08x, %08x) -> %08x\n", OPS[k].name, h, operands[15], operands[19],
               OPS[k].fn(operands[15], operands[19]));
    }
    uint32_t mh = 0;
    for (int i = 0; i < n; i++) mh = mh * 7 + memory_ops(operands[i]);
    printf("memory ops %08x\n", mh);
    uint32_t tls;
    __asm__("rdhwr %0, $29" : "=r"(tls));
    printf("rdhwr $29 nonzero %d\n", tls != 0);
    return 0;
}
