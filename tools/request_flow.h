/*
 * request_flow.h - what `request`, `request --retrieve`, `accept` and
 * `renew` share: make the key and the pending request, hand it to a CA,
 * install the answer, and report the way the enrollment wizard does.
 */
#ifndef CERTSTORE_REQUEST_FLOW_H
#define CERTSTORE_REQUEST_FLOW_H

#include "cli.h"
#include "cli_keys.h"
#include "enroll/enroll.h"
#include "request.h"

/*
 * Generates the key in the token, builds and signs the request through the
 * provider, and records it pending (with ca_profile and usages).  On any
 * failure the key is removed from the token: nothing is left behind.
 */
cs_rv flow_make_pending(cs_store *store, cli_keys *keys, const cs_request_spec *spec,
			const char *ca_profile, const char *usages, cs_pending **out,
			X509_REQ **req_out, cs_err *err);

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
cs_rv flow_prepare(cs_store *store, cli_keys *keys, const char *profile_name,
		   cs_request_spec *spec, cs_err *err);

/*
 * flow_submit for a renewal of current (a certificate in My): the protocol's
 * renew when it has one (EST simplereenroll, authenticated as current), else
 * its submit.
 */
cs_rv flow_renew(cs_store *store, cli_keys *keys, const char *profile_name,
		 const cs_pending *pending, X509_REQ *req, const cs_cert *current, bool json,
		 cs_err *err);

/*
 * Installs certs (the certificate first) as the answer to pending: the
 * certificate must carry the pending request's public key, else
 * CS_ERR_KEY and nothing is installed.  Then assigns the requested usages
 * when the result is Valid, and prints the report.
 */
cs_rv flow_install_answer(cs_store *store, const cs_pending *pending, const cs_cert_list *certs,
			  const char *profile_name, bool json, cs_err *err);

/* Prints the result report for the certificate with thumbprint sha1 in My. */
cs_rv flow_report(cs_store *store, const char *sha1, const char *profile_name, bool json,
		  cs_err *err);

#endif
