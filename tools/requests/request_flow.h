/*
 * request_flow.h - what `request`, `request --retrieve`, `accept` and
 * `renew` share: make the key and the pending request, hand it to a CA,
 * install the answer, and report the way the enrollment wizard does.
 */
#ifndef CERTSTORE_REQUEST_FLOW_H
#define CERTSTORE_REQUEST_FLOW_H

#include "cli.h"
#include "cli_keys.h"
#include "enroll.h"
#include "request.h"

/* What a pending request is for, besides the spec. */
typedef struct flow_target {
	const char *ca_profile; /* NULL: a file for an offline CA */
	const char *usages;	/* assign these once Valid */
	const char *renews;	/* SHA-1 of the certificate this renews */
	const char *reuse_key;	/* a key already in the token (same-key renewal) */
} flow_target;

/*
 * Generates the key in the token (or uses target->reuse_key), builds and
 * signs the request through the provider, and records it pending.  On any
 * failure a key made here is removed from the token: nothing is left behind.
 */
cs_rv flow_make_pending(cs_store *store, cli_keys *keys, const cs_request_spec *spec,
			const flow_target *target, cs_pending **out, X509_REQ **req_out,
			cs_err *err);

/*
 * Renews cert: the same subject, SANs and key type, with the same key or a
 * new one, through profile (NULL: the profile that issued it) or written to
 * out_file for an offline CA.  Once issued, the usages move to the new
 * certificate and the old one is archived (the library does it on import).
 */
cs_rv flow_renew(cs_store *store, cli_keys *keys, const cs_cert *cert, const char *profile,
		 bool new_key, const char *out_file, bool json, cs_err *err);

/*
 * Sends pending (with its request req) to profile_name's CA and installs an
 * issued answer.  A pending answer records the CA's request ID and returns
 * CS_ERR_PENDING; a failure leaves the request and its key pending.
 * json: print the report as JSON.
 */
cs_rv flow_submit(cs_store *store, cli_keys *keys, const char *profile_name,
		  const cs_pending *pending, X509_REQ *req, bool json, cs_err *err);

/*
 * Lets profile_name's protocol adjust spec before the key and request are
 * made (enroll_protocol.prepare); fails on an unknown profile, so nothing is
 * made for a CA that does not exist.
 */
cs_rv flow_prepare(cs_store *store, cli_keys *keys, const char *profile_name, cs_request_spec *spec,
		   cs_err *err);

/*
 * flow_submit for a renewal of current (a certificate in My): the protocol's
 * renew when it has one (EST simplereenroll, authenticated as current), else
 * its submit.
 */
cs_rv flow_submit_renewal(cs_store *store, cli_keys *keys, const char *profile_name,
			  const cs_pending *pending, X509_REQ *req, const cs_cert *current,
			  bool json, cs_err *err);

/*
 * Installs certs (the certificate first) as the answer to pending: the
 * certificate must carry the pending request's public key, else
 * CS_ERR_KEY and nothing is installed.  Then assigns the requested usages
 * when the result is Valid, and prints the report.
 */
cs_rv flow_install_answer(cs_store *store, const cs_pending *pending, const cs_cert_list *certs,
			  const char *profile_name, bool json, cs_err *err);

/* Writes req as PEM to path (atomically, 0644), for an offline CA. */
cs_rv flow_write_request(const char *path, X509_REQ *req, cs_err *err);

/* Prints the result report for the certificate with thumbprint sha1 in My. */
cs_rv flow_report(cs_store *store, const char *sha1, const char *profile_name, bool json,
		  cs_err *err);

#endif
