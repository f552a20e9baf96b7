/*
 * pemblock.c - a decoder's input, read through the core's BIO upcalls
 * (see pemblock.h).  In the front and in the core alike.
 */
#include "pemblock.h"

#include <stdlib.h>
#include <string.h>

/* A key reference is a few hundred bytes; a PEM key file is never more than
 * a few KiB.  Reading stops here: a big input is not ours. */
#define KEYREF_MAX_INPUT (64 * 1024)

int csp_read_all(OSSL_FUNC_BIO_read_ex_fn *read_ex, OSSL_CORE_BIO *in, unsigned char **out,
		 size_t *outlen)
{
	size_t cap = 4096, len = 0, n;
	unsigned char *buf = malloc(cap + 1), *p;

	if (buf == NULL || read_ex == NULL) {
		free(buf);
		return 0;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= KEYREF_MAX_INPUT || (p = realloc(buf, cap * 2 + 1)) == NULL)
				break;
			buf = p;
			cap *= 2;
		}
		n = 0;
		if (!read_ex(in, buf + len, cap - len, &n) || n == 0) {
			buf[len] = '\0';
			*out = buf;
			*outlen = len;
			return 1;
		}
		len += n;
	}
	free(buf);
	return 0;
}

/*
 * One block, whatever the caller then decides: callers that scan a file
 * block by block (PEM_read_bio_PrivateKey, haproxy looking for DH
 * parameters in a certificate file) need every call to move on by one block
 * whichever decoder was tried last: listed before default, ours is, and
 * reading everything or nothing made haproxy loop forever.
 */
int csp_read_pem_block(OSSL_FUNC_BIO_gets_fn *gets, OSSL_FUNC_BIO_read_ex_fn *read_ex,
		       OSSL_CORE_BIO *in, unsigned char **out, size_t *outlen)
{
	size_t cap = 4096, len = 0, n;
	char *buf, *p, *line;
	int in_block = 0;

	if (gets == NULL)
		return csp_read_all(read_ex, in, out, outlen);
	if ((buf = malloc(cap + 1)) == NULL)
		return 0;
	for (;;) {
		if (cap - len < 256) {
			if (cap >= KEYREF_MAX_INPUT || (p = realloc(buf, cap * 2 + 1)) == NULL)
				break;
			buf = p;
			cap *= 2;
		}
		line = buf + len;
		if (gets(in, line, (int)(cap - len + 1)) <= 0)
			goto done;
		n = strlen(line);
		len += n;
		if (strncmp(line, "-----BEGIN ", 11) == 0)
			in_block = 1;
		else if (in_block && strncmp(line, "-----END ", 9) == 0 && n > 0 &&
			 line[n - 1] == '\n')
			goto done;
	}
	free(buf);
	return 0;
done:
	buf[len] = '\0';
	*out = (unsigned char *)buf;
	*outlen = len;
	return 1;
}
