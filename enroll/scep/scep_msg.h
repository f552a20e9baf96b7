/*
 * scep_msg.h - SCEP (RFC 8894) messages, built and parsed with OpenSSL's
 * PKCS#7: the pkiMessage a client sends (PKCSReq, CertPoll) and the CertRep
 * it gets back, the GetCACert answer and GetCACaps.  No network here; the
 * parsers are driven by tests/fuzz/fuzz_scep.c.
 */
#ifndef CERTSTORE_SCEP_MSG_H
#define CERTSTORE_SCEP_MSG_H

#include <stdbool.h>

#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "certstore.h"

/* RFC 8894 3.2.1.2 messageType values. */
#define SCEP_CERTREP "3"
#define SCEP_RENEWALREQ "17"
#define SCEP_PKCSREQ "19"
#define SCEP_CERTPOLL "20"

/* What GetCACaps said (RFC 8894 3.5.2). */
typedef struct scep_caps {
	bool post;    /* POSTPKIOperation */
	bool aes;     /* AES (or SCEPStandard) */
	bool des3;    /* DES3 */
	bool sha256;  /* SHA-256 (or SCEPStandard) */
	bool renewal; /* Renewal */
} scep_caps;

void scep_caps_parse(const unsigned char *body, size_t len, scep_caps *out);

/* GetCACert: application/x-x509-ca-cert (one DER certificate) or
 * application/x-x509-ca-ra-cert (certs-only PKCS#7).  The CA certificates
 * and the RA (where one is separate) into out; *ra (borrowed from out) is
 * the certificate requests are encrypted to: the RA, else the CA. */
cs_rv scep_parse_cacert(const char *content_type, const unsigned char *body, size_t len,
			cs_cert_list *out, const cs_cert **ra, cs_err *err);

/* Everything a client message needs. */
typedef struct scep_req {
	const char *message_type; /* SCEP_PKCSREQ, SCEP_CERTPOLL */
	const char *transaction_id;
	unsigned char sender_nonce[16];
	X509 *signer;  /* the transient self-signed certificate */
	EVP_PKEY *key; /* its key: the request's key in the token */
	X509 *ra;      /* recipient of the envelope */
	bool aes;      /* AES-128-CBC, else DES-EDE3-CBC */
	bool sha256;   /* else SHA-1 */
} scep_req;

/* A self-signed certificate for the request's key (RFC 8894 2.3), valid for a day. */
cs_rv scep_transient_cert(X509_REQ *req, EVP_PKEY *key, X509 **out, cs_err *err);

/* pkiMessage DER: content (the CSR, or IssuerAndSubject for CertPoll) enveloped
 * to r->ra, signed by r->signer with the SCEP authenticated attributes. */
cs_rv scep_build(const scep_req *r, const unsigned char *content, size_t len, cs_bytes *out,
		 cs_err *err);

/* IssuerAndSubject (RFC 8894 3.3.3) for CertPoll. */
cs_rv scep_issuer_and_subject(const X509_NAME *issuer, const X509_NAME *subject, cs_bytes *out,
			      cs_err *err);

/* A parsed CertRep (before its signature is checked). */
typedef struct scep_rep {
	PKCS7 *p7;
	char message_type[8];
	char status[8];	   /* pkiStatus: "0" SUCCESS, "2" FAILURE, "3" PENDING */
	char fail_info[8]; /* "0".."4" or empty */
	char transaction_id[128];
	unsigned char recipient_nonce[16];
	int recipient_nonce_len;
} scep_rep;

void scep_rep_clear(scep_rep *rep);
/* Structure and authenticated attributes of a CertRep. Malformed: CS_ERR_BAD_INPUT. */
cs_rv scep_rep_parse(const unsigned char *der, size_t len, scep_rep *out, cs_err *err);
/* The signature, by one of cas (the CA/RA certificates), and the envelope's DER. */
cs_rv scep_rep_verify(scep_rep *rep, const cs_cert_list *cas, cs_bytes *enveloped, cs_err *err);
/* SUCCESS content: decrypt with key/cert, then the certs-only PKCS#7 inside. */
cs_rv scep_rep_certs(const cs_bytes *enveloped, EVP_PKEY *key, X509 *cert, cs_cert_list *out,
		     cs_err *err);
/* "badAlg", "badMessageCheck", "badRequest", "badTime", "badCertId". */
const char *scep_fail_info_name(const char *code);

#endif
