/* abort() and a failed assert(): glibc flushes nothing on abort, prints the assertion message to stderr,
 * then raises SIGABRT (rt_sigprocmask, gettid/getpid, tgkill). Under Linux the process dies of signal 6;
 * a shell reports that as status 134. argv[1] selects "abort" or "assert". */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "abort";
    printf("mode %s\n", mode);
    fflush(stdout);
    printf("this line stays in the stdio buffer and is lost on abort\n");
    if (strcmp(mode, "assert") == 0) {
        volatile int answer = 41;
        assert(answer == 42 && "the answer must be 42");
    }
    abort();
}
