/*
 * http.c - the one libcurl layer of every CA protocol and its policy table;
 * see http.h.  The TLS context for Root-store anchors is in http_tls.c, the
 * secrets in http_auth.c.
 */
#include "config.h"
#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>

void http_response_clear(http_response *r)
{
	if (r == NULL)
		return;
	free(r->body);
	free(r->content_type);
	free(r->location);
	free(r->replay_nonce);
	free(r->link_up);
	free(r->retry_after_value);
	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
}

/* What the callbacks of one transfer fill in. */
typedef struct http_call {
	http_conn *h;
	http_response *r;
} http_call;

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	http_call *call = arg;
	http_response *r = call->r;
	size_t add = size * n;
	char *grown;

	if (r->len + add > HTTP_MAX_BODY) {
		call->h->too_big = true;
		return 0; /* curl reports a write error */
	}
	grown = realloc(r->body, r->len + add + 1);
	if (grown == NULL)
		return 0;
	memcpy(grown + r->len, data, add);
	r->body = grown;
	r->len += add;
	r->body[r->len] = '\0';
	return add;
}

static char *trimmed(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

static void keep_header(char **slot, const char *v, size_t n)
{
	free(*slot);
	*slot = trimmed(v, n);
}

/* Link: <https://ca/chain>;rel="up" — the first "up" link only. */
static void keep_link_up(http_response *r, const char *v, size_t n)
{
	const char *lt = memchr(v, '<', n), *gt = lt ? memchr(lt, '>', n - (size_t)(lt - v)) : NULL;
	char *rest;

	if (gt == NULL || r->link_up != NULL)
		return;
	rest = strndup(gt, n - (size_t)(gt - v));
	if (rest != NULL && strstr(rest, "rel=\"up\"") != NULL)
		r->link_up = strndup(lt + 1, (size_t)(gt - lt - 1));
	free(rest);
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	http_response *r = ((http_call *)arg)->r;
	size_t len = size * n;
	const char *colon = memchr(data, ':', len);
	size_t name_len = colon ? (size_t)(colon - data) : 0;
	const char *v = colon ? colon + 1 : NULL;
	size_t vn = colon ? len - name_len - 1 : 0;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) { /* a new response (after 100) */
		http_response_clear(r);
		return len;
	}
	if (colon == NULL)
		return len;
	if (name_len == 12 && strncasecmp(data, "Content-Type", 12) == 0)
		keep_header(&r->content_type, v, vn);
	else if (name_len == 8 && strncasecmp(data, "Location", 8) == 0)
		keep_header(&r->location, v, vn);
	else if (name_len == 12 && strncasecmp(data, "Replay-Nonce", 12) == 0)
		keep_header(&r->replay_nonce, v, vn);
	else if (name_len == 4 && strncasecmp(data, "Link", 4) == 0)
		keep_link_up(r, v, vn);
	else if (name_len == 11 && strncasecmp(data, "Retry-After", 11) == 0) {
		char *t = trimmed(v, vn), *end = NULL;
		long s = t ? strtol(t, &end, 10) : -1;

		/* HTTP-date forms are rare from CAs: treat them as "a while";
		 * EST reads the date itself from the value as sent. */
		r->retry_after = (t && end != t && *end == '\0' && s >= 0) ? s : 10;
		free(r->retry_after_value);
		r->retry_after_value = t;
	}
	return len;
}

/*
 * The one policy, per protocol.  SCEP may use plain http: its messages are
 * signed and encrypted (RFC 8894 3.1) and scepserver speaks nothing else.
 * EST and SCEP put their anchors into the TLS context themselves (EST's
 * bootstrap accepts a chain provisionally, and presents client
 * certificates); ACME and certsrv hand curl the published roots.pem.
 */
static const http_policy policies[] = {
	{"est", "the EST server", false, HTTP_TRUST_ROOT_STORE, HTTP_AUTH_BASIC_ONLY, true},
	{"scep", "the SCEP server", true, HTTP_TRUST_ROOT_STORE, HTTP_AUTH_NONE, true},
	{"acme", "CA", false, HTTP_TRUST_ROOTS_FILE, HTTP_AUTH_PROFILE, false},
	{"certsrv", "CA", false, HTTP_TRUST_ROOTS_FILE, HTTP_AUTH_PROFILE, false},
};

const http_policy *http_policy_for(const char *protocol)
{
	size_t i;

	for (i = 0; protocol != NULL && i < sizeof(policies) / sizeof(policies[0]); i++)
		if (strcasecmp(protocol, policies[i].protocol) == 0)
			return &policies[i];
	return &policies[3];
}

/* The Root store as PEM in memory, for when published/roots.pem was never written. */
static cs_rv root_store_pem(cs_store *store, char **out, cs_err *err)
{
	cs_find_opts opts = {.store = CS_STORE_ROOT};
	cs_cert_list roots = {0};
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	size_t i;
	cs_rv rv = bio ? cs_store_list(store, &opts, &roots, err)
		       : cs_err_set(err, CS_ERR_INTERNAL, "out of memory");

	for (i = 0; rv == CS_OK && i < roots.n; i++)
		PEM_write_bio_X509(bio, roots.items[i]->x509);
	if (rv == CS_OK) {
		len = BIO_get_mem_data(bio, &data);
		*out = strndup(len > 0 ? data : "", len > 0 ? (size_t)len : 0);
	}
	cs_cert_list_clear(&roots);
	BIO_free(bio);
	return rv;
}

/* What works on first contact with a CA whose TLS certificate nothing
 * vouches for yet: `ca roots --trust` cannot, as it fetches the roots over
 * that same TLS connection. */
static const char *first_trust_advice(const enroll_profile *p)
{
	static char advice[400];

	snprintf(advice, sizeof(advice),
		 "get its root certificate as a file (from the CA's admin, or `certutil "
		 "-ca.cert root.cer` on the CA), check its fingerprint, then `certstore import "
		 "root.cer --store Root`; or trust it for this CA only with ca-file = root.cer "
		 "in [ca.%s]",
		 p->name);
	return advice;
}

static cs_rv set_roots_file(http_conn *h, cs_store *store, cs_err *err)
{
	CURL *c = h->curl;
	char *bundle = NULL;
	struct stat st;
	cs_rv rv = CS_OK;

	if (h->profile->ca_file != NULL) {
		curl_easy_setopt(c, CURLOPT_CAINFO, h->profile->ca_file);
		return CS_OK;
	}
	if (asprintf(&bundle, "%s/published/roots.pem", cs_store_dir(store)) < 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (stat(bundle, &st) == 0 && st.st_size > 0) {
		curl_easy_setopt(c, CURLOPT_CAINFO, bundle);
	} else {
		struct curl_blob blob = {0};

		rv = root_store_pem(store, &h->ca_pem, err);
		/* An empty blob makes libcurl fail with "error importing CA
		 * certificate blob", which tells the admin nothing. */
		if (rv == CS_OK && (h->ca_pem == NULL || *h->ca_pem == '\0'))
			rv = cs_err_set(
				err, CS_ERR_TLS,
				"the TLS certificate of CA %s (%s) is not trusted: Root holds "
				"no certificate yet; to trust it, %s",
				h->profile->name, h->profile->url, first_trust_advice(h->profile));
		blob.data = h->ca_pem;
		blob.len = h->ca_pem ? strlen(h->ca_pem) : 0;
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
		if (rv == CS_OK)
			curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
	}
	free(bundle);
	return rv;
}

static cs_rv set_trust(http_conn *h, cs_store *store, cs_err *err)
{
	CURL *c = h->curl;

	/* SCEP checks its CA certificate against the anchors over http:// too. */
	if (h->plain)
		return h->policy->trust == HTTP_TRUST_ROOT_STORE ? http_tls_setup(h, store, err)
								 : CS_OK;
	/* Only what the admin chose: never the system's CA directory as well. */
	curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->policy->trust == HTTP_TRUST_ROOT_STORE)
		return http_tls_setup(h, store, err);
	return set_roots_file(h, store, err);
}

cs_rv http_auth_scheme(const http_conn *h, long *how, cs_err *err)
{
	const enroll_profile *p = h->profile;
	const char *auth = p->auth ? p->auth : "none";

	*how = 0;
	if (h->policy->auth == HTTP_AUTH_NONE)
		return CS_OK;
	if (h->policy->auth == HTTP_AUTH_BASIC_ONLY) {
		/* auth was once ignored here, so that auth = ntlm silently became Basic. */
		if (p->auth == NULL || strcasecmp(p->auth, "basic") == 0) {
			*how = p->user != NULL ? (long)CURLAUTH_BASIC : 0;
			if (p->auth != NULL && p->user == NULL)
				return cs_err_set(err, CS_ERR_USAGE,
						  "[ca.%s] auth = basic needs user", p->name);
			return CS_OK;
		}
		if (strcasecmp(p->auth, "none") == 0)
			return CS_OK;
		return cs_err_set(err, CS_ERR_USAGE,
				  "[ca.%s] auth = %s: an EST profile authenticates with basic "
				  "(user, password-file), none, or a TLS client certificate "
				  "(client-cert)",
				  p->name, p->auth);
	}
	if (strcasecmp(auth, "none") == 0)
		return CS_OK;
	/* auth = cert was once accepted here and silently did nothing: a TLS
	 * client certificate is an EST feature (client-cert), so say so. */
	if (strcasecmp(auth, "cert") == 0)
		return cs_err_set(err, CS_ERR_USAGE,
				  "[ca.%s] auth = cert: only EST profiles present a TLS client "
				  "certificate (client-cert = THUMBPRINT); for %s use none, basic, "
				  "ntlm or negotiate",
				  p->name, p->protocol ? p->protocol : "this protocol");
	if (strcasecmp(auth, "basic") == 0)
		*how = CURLAUTH_BASIC;
	else if (strcasecmp(auth, "ntlm") == 0)
		*how = CURLAUTH_NTLM;
	else if (strcasecmp(auth, "negotiate") == 0)
		*how = CURLAUTH_NEGOTIATE;
	else
		return cs_err_set(err, CS_ERR_USAGE,
				  "[ca.%s] auth = %s: expected none, basic, ntlm or negotiate",
				  p->name, auth);
	if (p->user == NULL && *how != (long)CURLAUTH_NEGOTIATE)
		return cs_err_set(err, CS_ERR_USAGE, "[ca.%s] auth = %s needs user", p->name, auth);
	return CS_OK;
}

static cs_rv set_auth(http_conn *h, const enroll_ctx *ctx, cs_err *err)
{
	const enroll_profile *p = h->profile;
	char *password = NULL;
	long how;
	cs_rv rv = http_auth_scheme(h, &how, err);

	if (rv != CS_OK || how == 0)
		return rv;
	curl_easy_setopt(h->curl, CURLOPT_HTTPAUTH, how);
	if (how == (long)CURLAUTH_NEGOTIATE && p->user == NULL) {
		/* Kerberos: the ticket in the credential cache speaks for us. */
		curl_easy_setopt(h->curl, CURLOPT_USERNAME, "");
		return CS_OK;
	}
	rv = http_read_password(ctx, &password, err);
	if (rv != CS_OK)
		return rv;
	curl_easy_setopt(h->curl, CURLOPT_USERNAME, p->user);
	curl_easy_setopt(h->curl, CURLOPT_PASSWORD, password); /* libcurl keeps its own copy */
	http_secret_free(password);
	return CS_OK;
}

static cs_rv check_url(http_conn *h, cs_err *err)
{
	const enroll_profile *p = h->profile;

	if (p->url != NULL && strncasecmp(p->url, "https://", 8) == 0)
		return CS_OK;
	if (p->url != NULL && h->policy->allow_plain_http &&
	    strncasecmp(p->url, "http://", 7) == 0) {
		h->plain = true;
		return CS_OK;
	}
	return cs_err_set(err, CS_ERR_USAGE, "[ca.%s] url must be an https:// URL%s (got %s)",
			  p->name, h->policy->allow_plain_http ? " or http://" : "",
			  p->url ? p->url : "none");
}

static cs_rv conn_setup(enroll_ctx *ctx, http_conn *h, cs_err *err)
{
	const enroll_profile *p = ctx->profile;
	cs_rv rv = check_url(h, err);

	if (rv != CS_OK)
		return rv;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	h->curl = curl_easy_init();
	if (h->curl == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot set up libcurl");
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, h->plain ? "http" : "https");
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, p->connect_timeout);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, p->timeout);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "certstore/" PACKAGE_VERSION);
	rv = set_trust(h, ctx->store, err);
	if (rv == CS_OK)
		rv = set_auth(h, ctx, err);
	return rv;
}

cs_rv http_open(enroll_ctx *ctx, const http_open_opts *opts, http_conn *out, cs_err *err)
{
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	out->profile = ctx->profile;
	out->policy = http_policy_for(ctx->profile->protocol);
	snprintf(out->what, sizeof(out->what), "%s %s", out->policy->peer, ctx->profile->name);
	if (opts != NULL) {
		out->tls.provisional = opts->provisional;
		out->tls.client_cert = opts->client_cert;
		out->tls.client_key = opts->client_key;
	}
	rv = conn_setup(ctx, out, err);
	if (rv != CS_OK)
		http_close(out);
	return rv;
}

void http_close(http_conn *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h->ca_pem);
	http_tls_clear(&h->tls);
	memset(h, 0, sizeof(*h));
}

cs_rv enroll_curl_class(int curl_code)
{
	switch (curl_code) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return CS_ERR_UNREACHABLE;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return CS_ERR_TLS;
	default:
		return CS_ERR_CA;
	}
}

static cs_rv tls_error(const http_conn *h, const char *url, const char *detail, cs_err *err)
{
	const char *name = h->profile->name, *ca_file = h->profile->ca_file;
	char anchors[300];

	snprintf(anchors, sizeof(anchors), "%s%s", ca_file ? "ca-file " : "the Root store",
		 ca_file ? ca_file : "");
	if (h->policy->bootstrap_advice && ca_file == NULL)
		return cs_err_set(err, CS_ERR_TLS,
				  "the TLS certificate of %s does not verify against %s (%s is not "
				  "trusted): %s; trust the CA first (`certstore ca roots %s "
				  "--expect-fingerprint SHA256`, then --trust) or pin it with "
				  "ca-file = FILE in [ca.%s]",
				  h->what, anchors, url, detail, name, name);
	return cs_err_set(err, CS_ERR_TLS,
			  "the TLS certificate of %s does not verify against %s (%s is not "
			  "trusted): %s; to trust it, %s",
			  h->what, anchors, url, detail, first_trust_advice(h->profile));
}

cs_rv http_transport_error(const http_conn *h, const char *url, int rc, const char *detail,
			   cs_err *err)
{
	if (detail == NULL || *detail == '\0')
		detail = curl_easy_strerror((CURLcode)rc);
	switch (enroll_curl_class(rc)) {
	case CS_ERR_TLS:
		return tls_error(h, url, detail, err);
	case CS_ERR_UNREACHABLE:
		return cs_err_set(err, CS_ERR_UNREACHABLE, "cannot reach %s at %s: %s", h->what,
				  url, detail);
	default:
		break;
	}
	if (rc == CURLE_WRITE_ERROR && h->too_big)
		return cs_err_set(err, CS_ERR_CA, "%s (%s) sent more than %u bytes", h->what, url,
				  HTTP_MAX_BODY);
	return cs_err_set(err, CS_ERR_CA, "talking to %s at %s failed: %s", h->what, url, detail);
}

static struct curl_slist *request_headers(const char *content_type, const char *accept)
{
	struct curl_slist *list = curl_slist_append(NULL, "Expect:");
	char line[160];

	if (content_type != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", content_type);
		list = curl_slist_append(list, line);
	}
	if (accept != NULL) {
		snprintf(line, sizeof(line), "Accept: %s", accept);
		list = curl_slist_append(list, line);
	}
	return list;
}

static void set_method(CURL *c, const char *method, const void *body, size_t len)
{
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
}

cs_rv http_request(http_conn *h, const char *method, const char *url, const char *content_type,
		   const void *body, size_t len, const char *accept, http_response *out,
		   cs_err *err)
{
	char msg[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = request_headers(content_type, accept);
	http_call call = {h, out};
	CURL *c = h->curl;
	CURLcode rc;

	http_response_clear(out);
	h->too_big = false;
	if (!h->announced) {
		fprintf(stderr, "certstore: waiting for the CA %s...\n", h->profile->name);
		h->announced = true;
	}
	set_method(c, method, body, len);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, msg);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &call);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &call);
	rc = curl_easy_perform(c);
	ERR_clear_error(); /* a failed handshake leaves OpenSSL's queue to us */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK) {
		http_response_clear(out);
		return http_transport_error(h, url, (int)rc, msg, err);
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	if (out->status == 401) /* for a message that says what the CA asked for */
		curl_easy_getinfo(c, CURLINFO_HTTPAUTH_AVAIL, &out->auth_offered);
	if (out->body == NULL && (out->body = strdup("")) == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	return CS_OK;
}

cs_rv http_get(http_conn *h, const char *url, const char *accept, http_response *out, cs_err *err)
{
	cs_rv rv = http_request(h, "GET", url, NULL, NULL, 0, accept, out, err);

	if (rv == CS_OK)
		rv = http_status_error(h, url, out, err);
	return rv;
}

char *http_form_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *w = out;

	for (; out != NULL && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
			*w++ = (char)c;
		} else {
			*w++ = '%';
			*w++ = hex[c >> 4];
			*w++ = hex[c & 15];
		}
	}
	if (out != NULL)
		*w = '\0';
	return out;
}

void http_excerpt(const char *body, size_t len, char *out, size_t n)
{
	size_t i, o = 0;
	bool space = false;

	for (i = 0; body != NULL && i < len && o + 4 < n; i++) {
		unsigned char c = (unsigned char)body[i];

		if (isspace(c) || !isprint(c)) {
			space = o > 0;
			continue;
		}
		if (space)
			out[o++] = ' ';
		space = false;
		out[o++] = (char)c;
	}
	if (body != NULL && i < len && o + 4 <= n)
		memcpy(out + o, "...", 3), o += 3;
	out[o] = '\0';
}
