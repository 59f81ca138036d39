// The MD5/SHA1/RIPEMD160 context APIs are deprecated in OpenSSL 3 but allocate
// nothing, which the lookup hot path needs (an EVP_MD_CTX is a heap object).
#define OPENSSL_API_COMPAT 10101
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/sha.h>
#include <openssl/ripemd.h>
#include <openssl/rsa.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/err.h>
#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/bio.h>

static inline long cvmfs_bio_get_mem_data(BIO *b, char **pp) { return BIO_get_mem_data(b, pp); }
