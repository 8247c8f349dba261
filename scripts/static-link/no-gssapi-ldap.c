/*
 * Kerberos (GSSAPI) and LDAP entry points for Debian's static libpq.a, which was compiled with both.
 * The shipped binaries link libpq statically (scripts/static-link/prepare.sh) to keep the ~20 shared
 * libraries behind these two features out of every process start. Nothing here pretends to work:
 *   - gss_acquire_cred fails, so libpq finds no credential cache and never tries GSS encryption
 *     (gssencmode=prefer, the default, quietly falls back; gssencmode=require fails with libpq's own
 *     "GSSAPI encryption required" error);
 *   - a server that asks for GSSAPI authentication gets libpq's usual error path, with the message
 *     below as the reason;
 *   - ldap_init returns NULL, so an LDAP service lookup (pg_service.conf `ldap://`) fails with
 *     libpq's "could not create LDAP structure".
 * The other functions are unreachable after those failures; they fail too, and free nothing.
 * Prototypes follow MIT Kerberos' gssapi.h and OpenLDAP's ldap.h (their headers are not build
 * dependencies).
 */
#include <stddef.h>
#include <stdint.h>

typedef uint32_t OM_uint32;
typedef struct gss_buffer_desc_struct {
    size_t length;
    void *value;
} gss_buffer_desc, *gss_buffer_t;
typedef void *gss_OID;
typedef void *gss_OID_set;
typedef void *gss_name_t;
typedef void *gss_cred_id_t;
typedef void *gss_ctx_id_t;
typedef void *gss_channel_bindings_t;
typedef int gss_cred_usage_t;
typedef OM_uint32 gss_qop_t;

#define GSS_S_UNAVAILABLE (16u << 16)

static const char unsupported[] = "GSSAPI is not supported by this build of clerk-webhook";

gss_OID GSS_C_NT_HOSTBASED_SERVICE = NULL;

static OM_uint32 unavailable(OM_uint32 *minor) {
    if (minor) *minor = 0;
    return GSS_S_UNAVAILABLE;
}

OM_uint32 gss_acquire_cred(OM_uint32 *minor, gss_name_t name, OM_uint32 time, gss_OID_set mechs,
                           gss_cred_usage_t usage, gss_cred_id_t *cred, gss_OID_set *actual, OM_uint32 *rec) {
    (void)name, (void)time, (void)mechs, (void)usage, (void)actual, (void)rec;
    if (cred) *cred = NULL;
    return unavailable(minor);
}

OM_uint32 gss_import_name(OM_uint32 *minor, gss_buffer_t input, gss_OID type, gss_name_t *output) {
    (void)input, (void)type;
    if (output) *output = NULL;
    return unavailable(minor);
}

OM_uint32 gss_init_sec_context(OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *context, gss_name_t target,
                               gss_OID mech, OM_uint32 flags, OM_uint32 time, gss_channel_bindings_t bindings,
                               gss_buffer_t input, gss_OID *actual_mech, gss_buffer_t output,
                               OM_uint32 *ret_flags, OM_uint32 *rec) {
    (void)cred, (void)context, (void)target, (void)mech, (void)flags, (void)time, (void)bindings, (void)input;
    (void)actual_mech, (void)ret_flags, (void)rec;
    if (output) output->length = 0, output->value = NULL;
    return unavailable(minor);
}

/* libpq prints every status message it is given: always one constant message, and no more. */
OM_uint32 gss_display_status(OM_uint32 *minor, OM_uint32 status, int type, gss_OID mech, OM_uint32 *context,
                             gss_buffer_t message) {
    (void)status, (void)type, (void)mech;
    if (context) *context = 0;
    if (message) message->length = sizeof unsupported - 1, message->value = (void *)unsupported;
    if (minor) *minor = 0;
    return 0;
}

/* Buffers handed out above are static: releasing them frees nothing. */
OM_uint32 gss_release_buffer(OM_uint32 *minor, gss_buffer_t buffer) {
    if (buffer) buffer->length = 0, buffer->value = NULL;
    if (minor) *minor = 0;
    return 0;
}

OM_uint32 gss_release_cred(OM_uint32 *minor, gss_cred_id_t *cred) {
    if (cred) *cred = NULL;
    if (minor) *minor = 0;
    return 0;
}

OM_uint32 gss_release_name(OM_uint32 *minor, gss_name_t *name) {
    if (name) *name = NULL;
    if (minor) *minor = 0;
    return 0;
}

OM_uint32 gss_delete_sec_context(OM_uint32 *minor, gss_ctx_id_t *context, gss_buffer_t output) {
    if (context) *context = NULL;
    if (output) output->length = 0, output->value = NULL;
    if (minor) *minor = 0;
    return 0;
}

OM_uint32 gss_wrap(OM_uint32 *minor, gss_ctx_id_t context, int conf, gss_qop_t qop, gss_buffer_t input,
                   int *conf_state, gss_buffer_t output) {
    (void)context, (void)conf, (void)qop, (void)input, (void)conf_state;
    if (output) output->length = 0, output->value = NULL;
    return unavailable(minor);
}

OM_uint32 gss_unwrap(OM_uint32 *minor, gss_ctx_id_t context, gss_buffer_t input, gss_buffer_t output,
                     int *conf_state, gss_qop_t *qop) {
    (void)context, (void)input, (void)conf_state, (void)qop;
    if (output) output->length = 0, output->value = NULL;
    return unavailable(minor);
}

OM_uint32 gss_wrap_size_limit(OM_uint32 *minor, gss_ctx_id_t context, int conf, gss_qop_t qop, OM_uint32 size,
                              OM_uint32 *max_input) {
    (void)context, (void)conf, (void)qop, (void)size;
    if (max_input) *max_input = 0;
    return unavailable(minor);
}

/* OpenLDAP: opaque handles; -1 is LDAP_OPT_ERROR / "no result", 0x50 is LDAP_OTHER. */
typedef struct ldap LDAP;
typedef struct ldapmsg LDAPMessage;
struct berval;
struct timeval;

LDAP *ldap_init(const char *host, int port) {
    (void)host, (void)port;
    return NULL;
}

char *ldap_err2string(int error) {
    (void)error;
    return (char *)"LDAP is not supported by this build of clerk-webhook";
}

int ldap_set_option(LDAP *ld, int option, const void *value) {
    (void)ld, (void)option, (void)value;
    return -1;
}

int ldap_simple_bind(LDAP *ld, const char *who, const char *password) {
    (void)ld, (void)who, (void)password;
    return -1;
}

int ldap_result(LDAP *ld, int id, int all, struct timeval *timeout, LDAPMessage **result) {
    (void)ld, (void)id, (void)all, (void)timeout;
    if (result) *result = NULL;
    return -1;
}

int ldap_search_st(LDAP *ld, const char *base, int scope, const char *filter, char **attributes, int only,
                   struct timeval *timeout, LDAPMessage **result) {
    (void)ld, (void)base, (void)scope, (void)filter, (void)attributes, (void)only, (void)timeout;
    if (result) *result = NULL;
    return 0x50;
}

int ldap_count_entries(LDAP *ld, LDAPMessage *chain) {
    (void)ld, (void)chain;
    return -1;
}

LDAPMessage *ldap_first_entry(LDAP *ld, LDAPMessage *chain) {
    (void)ld, (void)chain;
    return NULL;
}

struct berval **ldap_get_values_len(LDAP *ld, LDAPMessage *entry, const char *attribute) {
    (void)ld, (void)entry, (void)attribute;
    return NULL;
}

void ldap_value_free_len(struct berval **values) { (void)values; }

int ldap_msgfree(LDAPMessage *message) {
    (void)message;
    return 0;
}

int ldap_unbind(LDAP *ld) {
    (void)ld;
    return 0;
}
