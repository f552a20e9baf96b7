/*
 * testutil.h - a PKI made in memory for unit tests, and temp store dirs.
 */
#ifndef CS_TESTUTIL_H
#define CS_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certstore.h"

typedef struct tu_cert {
	X509 *x509;
	EVP_PKEY *key;
} tu_cert;

/* A fresh P-256 key. */
EVP_PKEY *tu_key(void);
/*
 * A certificate for CN=cn valid from now+nb_days to now+na_days, issued by
 * issuer (NULL: self-signed), a CA when is_ca.
 */
tu_cert tu_make(const char *cn, const tu_cert *issuer, int is_ca, long nb_days, long na_days);
void tu_free(tu_cert *c);
/* DER / PEM encodings (caller frees with free()). */
unsigned char *tu_der(X509 *x, size_t *len);
char *tu_pem(X509 *const *certs, size_t n, size_t *len);
/* A cs_cert for x (fails the test on error). */
cs_cert *tu_cs_cert(X509 *x);

/* mkdtemp()ed directory path; tu_rmdir removes it recursively. */
char *tu_tempdir(void);
void tu_rmdir(char *dir);
/* A fresh store in a temp dir. */
cs_store *tu_store(char **dir_out);

#endif
