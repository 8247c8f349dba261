#ifndef CLERK_WEBHOOK_COPENSSL_SHIM_H
#define CLERK_WEBHOOK_COPENSSL_SHIM_H

// The low-level SHA256_* API is deprecated in OpenSSL 3 but still exported; it avoids the ~1 ms
// provider initialisation that the first EVP/HMAC call costs in every new process.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#endif
