#ifndef CLERK_WEBHOOK_CLIBPQ_SHIM_H
#define CLERK_WEBHOOK_CLIBPQ_SHIM_H

#include <libpq-fe.h>

// PG_DIAG_* are character-literal macros, which Swift does not import.
static inline const char *clerk_pq_sqlstate(const PGresult *result) {
    return PQresultErrorField(result, PG_DIAG_SQLSTATE);
}

static inline const char *clerk_pq_primary_message(const PGresult *result) {
    return PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
}

#endif
