/* Deep and branchy recursion: Ackermann, naive Fibonacci, Towers of Hanoi, and a recursive permutation
 * generator. Stresses jal/jalr/jr, stack frames and delay slots. */
#include <stdint.h>
#include <stdio.h>

__attribute__((noinline)) static uint32_t ackermann(uint32_t m, uint32_t n) {
    if (m == 0) return n + 1;
    if (n == 0) return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

__attribute__((noinline)) static uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static uint32_t moves, move_hash;
__attribute__((noinline)) static void hanoi(int n, int from, int to, int via) {
    if (n == 0) return;
    hanoi(n - 1, from, via, to);
    moves++;
    move_hash = move_hash * 31 + (uint32_t)(from * 3 + to);
    hanoi(n - 1, via, to, from);
}

static int perm[8], used[8], perm_count;
static uint32_t perm_hash;
__attribute__((noinline)) static void permute(int k, int n) {
    if (k == n) {
        perm_count++;
        for (int i = 0; i < n; i++) perm_hash = perm_hash * 7 + (uint32_t)perm[i];
        return;
    }
    for (int i = 0; i < n; i++)
        if (!used[i]) {
            used[i] = 1;
            perm[k] = i;
            permute(k + 1, n);
            used[i] = 0;
        }
}

/* Mutual recursion through function pointers forces jalr. */
static int is_odd(unsigned n);
static int (*volatile odd_ptr)(unsigned) = is_odd;
__attribute__((noinline)) static int is_even(unsigned n) { return n == 0 ? 1 : odd_ptr(n - 1); }
static int (*volatile even_ptr)(unsigned) = is_even;
__attribute__((noinline)) static int is_odd(unsigned n) { return n == 0 ? 0 : even_ptr(n - 1); }

int main(void) {
    printf("ackermann(2,3)=%u ackermann(3,5)=%u\n", ackermann(2, 3), ackermann(3, 5));
    printf("fib(24)=%u\n", fib(24));
    hanoi(14, 0, 2, 1);
    printf("hanoi moves %u hash %08x\n", moves, move_hash);
    permute(0, 7);
    printf("permutations %d hash %08x\n", perm_count, perm_hash);
    printf("even(1001)=%d odd(777)=%d\n", is_even(1001), is_odd(777));
    return 0;
}
