/* The floor of the persistent shape with the database work included: a libfcgi responder that keeps
 * one libpq connection and applies each request with clerk-webhook's own statement, but verifies
 * and parses nothing. Each request's svix id doubles as a new user's id (and its email), so every
 * 200 is a new row, as for the real handler. The gap between this and clerk-webhook persistent is
 * what the handler itself costs; the gap between this and the targets is what the database costs.
 * DATABASE_URL from the environment, like the webhook. */
#include <fcgiapp.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const apply =
    "SELECT clerk_webhook.apply_user_event($1, 'user.created', 'upsert', $1, 1, $1 || '@example.com', NULL)";

int main(void) {
    FCGX_Request request;
    char buffer[65536];
    const char *url = getenv("DATABASE_URL");
    PGconn *connection = PQconnectdb(url ? url : "");
    FCGX_Init();
    FCGX_InitRequest(&request, 0, 0);
    while (FCGX_Accept_r(&request) >= 0) {
        while (FCGX_GetStr(buffer, sizeof buffer, request.in) > 0) {
        }
        const char *id = FCGX_GetParam("HTTP_SVIX_ID", request.envp);
        if (PQstatus(connection) != CONNECTION_OK) PQreset(connection);
        PGresult *result = PQexecParams(connection, apply, 1, NULL, &id, NULL, NULL, 0);
        if (id != NULL && PQresultStatus(result) == PGRES_TUPLES_OK) {
            FCGX_PutS("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{\"ok\":true}", request.out);
        } else {
            FCGX_PutS("Status: 503 Service Unavailable\r\nContent-Type: application/json\r\n\r\n{\"ok\":false}",
                      request.out);
        }
        PQclear(result);
        FCGX_Finish_r(&request);
    }
    PQfinish(connection);
    return 0;
}
