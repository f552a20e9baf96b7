/*
 * pemblock.h - reading a decoder's input through the core's BIO upcalls,
 * shared by the front (certstore.so, which decides whether a PEM block is a
 * key reference before the core is loaded) and the core's decoders.
 * Nothing here needs libcertstore or libcrypto's symbols.
 */
#ifndef CSP_PEMBLOCK_H
#define CSP_PEMBLOCK_H

#include <stddef.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>

/* The first line of a PEM key reference (CS_KEYREF_PEM_NAME's block). */
#define CSP_KEYREF_PEM_BEGIN "-----BEGIN CERTSTORE KEY REFERENCE-----"

/* Reads the whole input, up to 64 KiB, NUL-terminated, into *out (free()).
 * 0: could not read, or too big (a big input is not a key reference). */
int csp_read_all(OSSL_FUNC_BIO_read_ex_fn *read_ex, OSSL_CORE_BIO *in, unsigned char **out,
		 size_t *outlen);

/* Reads one PEM block (and any text before it) line by line, as OpenSSL's
 * own PEM-to-DER step does, leaving the input just after it; without
 * gets, the whole input.  Same result as csp_read_all. */
int csp_read_pem_block(OSSL_FUNC_BIO_gets_fn *gets, OSSL_FUNC_BIO_read_ex_fn *read_ex,
		       OSSL_CORE_BIO *in, unsigned char **out, size_t *outlen);

#endif
