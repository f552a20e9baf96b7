/*
 * renew_flow.c - renewal: the request for a certificate again, through the
 * CA that issued it.
 */
#include "request_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cs_rv check_renewable(const cs_cert *cert, const char *profile, bool new_key,
			     const char *out_file, cs_err *err)
{
	if (cert->store != CS_STORE_MY)
		return cs_err_set(err, CS_ERR_USAGE,
				  "%s is in %s; only certificates in My are renewed", cert->sha1,
				  cs_store_id_name(cert->store));
	if (cert->archived)
		return cs_err_set(err, CS_ERR_USAGE, "%s is archived: it was renewed already",
				  cert->sha1);
	if (!new_key && cert->key_uri == NULL)
		return cs_err_set(err, CS_ERR_KEY,
				  "%s has no private key to renew with; use --new-key", cert->sha1);
	if (profile == NULL && out_file == NULL)
		return cs_err_set(
			err, CS_ERR_USAGE,
			"no CA profile is recorded for %s: give --ca PROFILE, or --out FILE "
			"for an offline CA",
			cert->sha1);
	return CS_OK;
}

cs_rv flow_renew(cs_store *store, cli_keys *keys, const cs_cert *cert, const char *profile,
		 bool new_key, const char *out_file, bool json, cs_err *err)
{
	cs_request_spec spec = {0};
	flow_target t = {0};
	cs_pending *p = NULL;
	X509_REQ *req = NULL;
	cs_rv rv;

	if (profile == NULL && out_file == NULL)
		profile = cert->ca_profile;
	rv = check_renewable(cert, profile, new_key, out_file, err);
	if (rv == CS_OK)
		rv = cs_request_spec_from_cert(cert, &spec, err);
	t.ca_profile = out_file == NULL ? profile : NULL;
	t.renews = cert->sha1;
	t.reuse_key = new_key ? NULL : cert->key_uri;
	/* The CA's say (SCEP's challenge) before the request is made. */
	if (rv == CS_OK && t.ca_profile != NULL)
		rv = flow_prepare(store, keys, t.ca_profile, &spec, err);
	if (rv == CS_OK)
		rv = flow_make_pending(store, keys, &spec, &t, &p, &req, err);
	if (rv == CS_OK && out_file != NULL) {
		rv = flow_write_request(out_file, req, err);
		if (rv == CS_OK && !json)
			printf("renewal request %lld for %s written to %s; importing the CA's "
			       "response moves its usages\n",
			       (long long)p->id, cert->subject, out_file);
	} else if (rv == CS_OK)
		rv = flow_submit_renewal(store, keys, profile, p, req, cert, json, err);
	X509_REQ_free(req);
	cs_pending_free(p);
	cs_request_spec_clear(&spec);
	return rv;
}
