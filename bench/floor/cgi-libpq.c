/* The floor of the CGI shape with the database work included: a C CGI program that opens a libpq
 * connection, applies the request with clerk-webhook's own statement, answers and exits, but
 * verifies and parses nothing. Linked against the same static libpq and OpenSSL as clerk-webhook
 * (bench/run.sh), and like it, it closes its output before it disconnects. Each request's svix id
 * doubles as a new user's id (and its email), so every 200 is a new row. The gap between this and
 * clerk-webhook cgi is what the handler itself costs; the gap between this and the targets is what
 * a new database connection per delivery costs. DATABASE_URL from the environment. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const apply =
    "SELECT clerk_webhook.apply_user_event($1, 'user.created', 'upsert', $1, 1, $1 || '@example.com', NULL)";

int main(void) {
    const char *length = getenv("CONTENT_LENGTH");
    long remaining = length ? strtol(length, NULL, 10) : 0;
    char buffer[65536];
    while (remaining > 0) {
        size_t got = fread(buffer, 1, remaining < (long)sizeof buffer ? (size_t)remaining : sizeof buffer, stdin);
        if (got == 0) break;
        remaining -= (long)got;
    }
    const char *url = getenv("DATABASE_URL");
    const char *id = getenv("HTTP_SVIX_ID");
    PGconn *connection = PQconnectdb(url ? url : "");
    PGresult *result = PQexecParams(connection, apply, 1, NULL, &id, NULL, NULL, 0);
    if (id != NULL && PQresultStatus(result) == PGRES_TUPLES_OK) {
        fputs("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{\"ok\":true}", stdout);
    } else {
        fputs("Status: 503 Service Unavailable\r\nContent-Type: application/json\r\n\r\n{\"ok\":false}", stdout);
    }
    fclose(stdout);
    PQclear(result);
    PQfinish(connection);
    return 0;
}
