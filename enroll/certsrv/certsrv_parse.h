/*
 * certsrv_parse.h - reading the pages of AD CS web enrollment (/certsrv):
 * what certfnsh.asp says about a request, and certcarc.asp's renewal count.
 * Pure functions over bytes from the network (a libFuzzer target,
 * tests/fuzz/fuzz_certsrv.c, runs them): no allocation but the outputs.
 */
#ifndef CERTSTORE_CERTSRV_PARSE_H
#define CERTSTORE_CERTSRV_PARSE_H

#include <stddef.h>

typedef enum {
	CERTSRV_UNKNOWN = 0, /* not a page we understand */
	CERTSRV_ISSUED,	     /* a certnew.cer?ReqID=N link */
	CERTSRV_PENDING,     /* "Certificate Pending" / "Your Request Id is N" */
	CERTSRV_DENIED,	     /* "denied", with the disposition message */
} certsrv_outcome;

typedef struct certsrv_result {
	certsrv_outcome outcome;
	char request_id[24]; /* decimal, "" when the page gave none */
	char message[512];   /* the disposition message (ISSUED/PENDING/DENIED), plain text */
} certsrv_result;

/* Classifies a certfnsh.asp (or HTML certnew.cer) page of len bytes. */
void certsrv_parse_result(const char *page, size_t len, certsrv_result *out);

/* certcarc.asp's `nRenewals=N`: N >= 0, or -1 when the page has none. */
long certsrv_parse_renewals(const char *page, size_t len);

#endif
