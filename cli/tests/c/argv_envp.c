/* Prints argc/argv/envp and a few auxiliary-vector-derived facts that glibc exposes. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv, char **envp) {
    printf("argc %d\n", argc);
    printf("argv0 present %d\n", argv[0] != NULL && argv[0][0] != '\0');
    for (int i = 1; i < argc; i++) printf("argv[%d] = [%s] len %zu\n", i, argv[i], strlen(argv[i]));
    printf("argv[argc] is null %d\n", argv[argc] == NULL);
    int n = 0;
    for (char **e = envp; *e; e++, n++) printf("env [%s]\n", *e);
    printf("envc %d\n", n);
    printf("pagesize %ld\n", sysconf(_SC_PAGESIZE));
    return argc;
}
