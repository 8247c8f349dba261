/* The floor of the CGI shape: a trivial C CGI program that reads its body and answers 200.
 * Behind the same nginx + fcgiwrap, it costs what a process per request costs with no work. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    const char *length = getenv("CONTENT_LENGTH");
    long remaining = length ? strtol(length, NULL, 10) : 0;
    char buffer[65536];
    while (remaining > 0) {
        size_t got = fread(buffer, 1, remaining < (long)sizeof buffer ? (size_t)remaining : sizeof buffer, stdin);
        if (got == 0) break;
        remaining -= (long)got;
    }
    fputs("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{\"ok\":true}", stdout);
    return 0;
}
