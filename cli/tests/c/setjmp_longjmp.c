/* setjmp/longjmp across nested frames. glibc's o32 setjmp saves the callee-saved FPU registers with sdc1,
 * so this also needs FPU loads/stores. */
#include <setjmp.h>
#include <stdio.h>

/* dive only ever leaves through longjmp, which gcc reports as infinite recursion. */
#pragma GCC diagnostic ignored "-Winfinite-recursion"

static jmp_buf env;
static int depth_reached;

__attribute__((noinline)) static void dive(int depth, int limit) {
    volatile char frame[64];
    frame[depth % 64] = (char)depth;
    depth_reached = depth;
    if (depth >= limit) longjmp(env, depth * 10 + frame[depth % 64] % 3 + 1);
    dive(depth + 1, limit);
    frame[0]++;
}

int main(void) {
    volatile int attempts = 0;
    volatile int sum = 0;
    for (volatile int limit = 0; limit < 6; limit++) {
        int r = setjmp(env);
        if (r == 0) {
            attempts++;
            dive(0, limit * 7);
            printf("unreachable\n");
        } else {
            sum += r;
            printf("limit %d: longjmp returned %d, depth %d\n", limit, r, depth_reached);
        }
    }
    jmp_buf inner;
    volatile int zero_case = setjmp(inner);
    if (zero_case == 0) longjmp(inner, 0); /* longjmp with 0 must make setjmp return 1 */
    printf("zero value became %d; attempts %d sum %d\n", zero_case, attempts, sum);
    return 0;
}
