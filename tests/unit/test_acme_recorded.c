/*
 * test_acme_recorded.c - the ACME client (enroll/acme/) against a real
 * exchange with pebble, recorded by tests/fixtures/record-acme.sh into
 * tests/fixtures/recorded/acme/exchange.json and replayed here, through the
 * enroll library's protocol table and HTTP layer, by a loopback TLS server
 * in a thread of this test.
 *
 * Nonces, keys and signatures differ per run, so the replay does not compare
 * bytes: it answers the recorded answers in the recorded order and checks
 * that each request has the recorded method and path, and the recorded
 * shape — a flattened JWS (protected, payload, signature) whose header is
 * ES256 with the nonce the replay last handed out and the request's own URL,
 * a jwk (newAccount) or the account URL as kid (everything after), a
 * signature that verifies with the account key the test gave the library,
 * and the recorded payload (the CSR: the one the test submitted).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "testutil.h"

#include "enroll.h"

#ifndef RECORDED_DIR
#error RECORDED_DIR must name tests/fixtures/recorded
#endif

#define CN "acme-recorded.example"

/* The replaying CA: one thread, connections one after another. */
typedef struct replay {
	json_object *exchange; /* the recorded array */
	size_t next;	       /* the recorded exchange the next request must match */
	char base[64];	       /* https://127.0.0.1:PORT: stands for {BASE} */
	char *nonce;	       /* the last Replay-Nonce handed out */
	EVP_PKEY *account;     /* the key every JWS must verify with */
	const char *csr;       /* base64url DER of the CSR the test submits */
	char problems[4096];   /* what did not match, for the main thread to fail on */
	int listen_fd;
	SSL_CTX *ssl;
	volatile bool stop;
	pthread_t thread;
} replay;

typedef struct fixture {
	tu_cert tls;
	char *dir, *ca_file;
	cs_store *store;
	EVP_PKEY *account;
	replay rp;
	enroll_profile profile;
	enroll_keys keys;
	enroll_ctx ctx;
	X509_REQ *req;
	char *csr_b64;
} fixture;

__attribute__((format(printf, 2, 3))) static void problem(replay *rp, const char *fmt, ...)
{
	size_t used = strlen(rp->problems);
	va_list ap;

	snprintf(rp->problems + used, sizeof(rp->problems) - used, "exchange %zu: ", rp->next);
	used = strlen(rp->problems);
	va_start(ap, fmt);
	vsnprintf(rp->problems + used, sizeof(rp->problems) - used, fmt, ap);
	va_end(ap);
	used = strlen(rp->problems);
	snprintf(rp->problems + used, sizeof(rp->problems) - used, "\n");
}

/* "(none)" for an absent value in a problem's words. */
static const char *or_none(const char *s)
{
	return s ? s : "(none)";
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* s with every {BASE} replaced by rp->base (caller frees). */
static char *rebase(const replay *rp, const char *s)
{
	size_t n = strlen(s) + 1, bl = strlen(rp->base);
	char *out, *o;
	const char *p;

	for (p = strstr(s, "{BASE}"); p != NULL; p = strstr(p + 6, "{BASE}"))
		n += bl;
	out = o = malloc(n);
	while ((p = strstr(s, "{BASE}")) != NULL) {
		memcpy(o, s, (size_t)(p - s));
		o += p - s;
		memcpy(o, rp->base, bl);
		o += bl;
		s = p + 6;
	}
	strcpy(o, s);
	return out;
}

static unsigned char *b64url_decode(const char *in, size_t *len)
{
	size_t n = strlen(in), i;
	char *std = malloc(n + 4);
	unsigned char *out = malloc(n + 4);
	int got;

	for (i = 0; i < n; i++)
		std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	while (i % 4 != 0)
		std[i++] = '=';
	std[i] = '\0';
	got = EVP_DecodeBlock(out, (unsigned char *)std, (int)i);
	free(std);
	if (got < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding's zero bytes */
	*len = (size_t)got - (n % 4 == 2 ? 2 : n % 4 == 3 ? 1 : 0);
	out[*len] = '\0';
	return out;
}

static char *b64url_encode(const unsigned char *in, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);

	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (char *p = out; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return out;
}

/* ES256: the raw r||s signature over "protected.payload" verifies with key. */
static bool es256_verifies(EVP_PKEY *key, const char *prot, const char *payload, const char *sig)
{
	size_t len = 0;
	unsigned char *raw = b64url_decode(sig, &len), *der = NULL;
	ECDSA_SIG *s = ECDSA_SIG_new();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char *input = NULL;
	int derlen;
	bool ok = false;

	if (raw == NULL || len != 64 || s == NULL || md == NULL ||
	    !ECDSA_SIG_set0(s, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL)))
		goto out;
	derlen = i2d_ECDSA_SIG(s, &der);
	if (derlen <= 0 || asprintf(&input, "%s.%s", prot, payload) < 0)
		goto out;
	ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	     EVP_DigestVerify(md, der, (size_t)derlen, (unsigned char *)input, strlen(input)) == 1;
out:
	free(input);
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	ECDSA_SIG_free(s);
	free(raw);
	return ok;
}

/* The decoded JSON of a base64url member ("" stays ""). */
static json_object *decoded_json(const char *b64, bool *empty)
{
	size_t len = 0;
	unsigned char *raw = b64url_decode(b64, &len);
	json_object *o = NULL;

	*empty = raw != NULL && len == 0;
	if (raw != NULL && len > 0)
		o = json_tokener_parse((char *)raw);
	free(raw);
	return o;
}

/* The protected header: ES256, the nonce handed out last, this URL, jwk or kid as recorded. */
static void check_header(replay *rp, json_object *rec, json_object *hdr, const char *url)
{
	json_object *rec_hdr = NULL, *jwk = NULL;
	char *kid = NULL;

	json_object_object_get_ex(rec, "protected", &rec_hdr);
	if (hdr == NULL) {
		problem(rp, "protected header is no JSON");
		return;
	}
	if (jstr(hdr, "alg") == NULL || strcmp(jstr(hdr, "alg"), "ES256") != 0)
		problem(rp, "alg %s, not ES256", or_none(jstr(hdr, "alg")));
	if (rp->nonce == NULL || jstr(hdr, "nonce") == NULL ||
	    strcmp(jstr(hdr, "nonce"), rp->nonce) != 0)
		problem(rp, "nonce %s, not the last one handed out (%s)",
			or_none(jstr(hdr, "nonce")), or_none(rp->nonce));
	if (jstr(hdr, "url") == NULL || strcmp(jstr(hdr, "url"), url) != 0)
		problem(rp, "url %s, not %s", or_none(jstr(hdr, "url")), url);
	if (jstr(rec_hdr, "kid") != NULL) {
		kid = rebase(rp, jstr(rec_hdr, "kid"));
		if (jstr(hdr, "kid") == NULL || strcmp(jstr(hdr, "kid"), kid) != 0)
			problem(rp, "kid %s, not the account URL %s", or_none(jstr(hdr, "kid")),
				kid);
		if (json_object_object_get_ex(hdr, "jwk", NULL))
			problem(rp, "a jwk beside the kid");
		free(kid);
	} else if (!json_object_object_get_ex(hdr, "jwk", &jwk) || jstr(jwk, "kty") == NULL ||
		   strcmp(jstr(jwk, "kty"), "EC") != 0 || jstr(jwk, "crv") == NULL ||
		   strcmp(jstr(jwk, "crv"), "P-256") != 0 || !jstr(jwk, "x") || !jstr(jwk, "y") ||
		   json_object_object_get_ex(hdr, "kid", NULL))
		problem(rp, "no EC P-256 jwk (and no kid) where one was recorded");
}

/* The payload: as recorded, the CSR being the one the test submitted. */
static void check_payload(replay *rp, json_object *rec, json_object *payload, bool empty)
{
	json_object *want = NULL, *csr = NULL;
	char *rec_text, *got_text;

	json_object_object_get_ex(rec, "payload", &want);
	if (json_object_is_type(want, json_type_string)) { /* "": POST-as-GET */
		if (!empty)
			problem(rp, "a payload where POST-as-GET was recorded");
		return;
	}
	if (payload == NULL) {
		problem(rp, "payload is no JSON");
		return;
	}
	if (json_object_object_get_ex(want, "csr", NULL)) {
		if (!json_object_object_get_ex(payload, "csr", &csr) ||
		    strcmp(json_object_get_string(csr), rp->csr) != 0)
			problem(rp, "csr %s is not the request submitted",
				or_none(json_object_get_string(csr)));
		if (json_object_object_length(payload) != 1)
			problem(rp, "the finalize payload has more than csr");
		return;
	}
	rec_text = rebase(rp, json_object_to_json_string_ext(want, JSON_C_TO_STRING_PLAIN));
	got_text = strdup(json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN));
	{
		json_object *w = json_tokener_parse(rec_text);

		if (!json_object_equal(w, payload))
			problem(rp, "payload %s, recorded %s", got_text, rec_text);
		json_object_put(w);
	}
	free(rec_text);
	free(got_text);
}

/* A POST: a flattened JWS that verifies, its header and payload as recorded. */
static void check_jws(replay *rp, json_object *rec, const char *body, const char *url)
{
	json_object *jws = json_tokener_parse(body), *hdr = NULL, *payload = NULL;
	const char *p = jstr(jws, "protected"), *pl = jstr(jws, "payload"),
		   *sig = jstr(jws, "signature");
	bool empty = false, ignored;

	if (jws == NULL || p == NULL || pl == NULL || sig == NULL ||
	    json_object_object_length(jws) != 3) {
		problem(rp, "body is no flattened JWS: %s", body);
		json_object_put(jws);
		return;
	}
	hdr = decoded_json(p, &ignored);
	payload = decoded_json(pl, &empty);
	check_header(rp, rec, hdr, url);
	check_payload(rp, rec, payload, empty);
	if (!es256_verifies(rp->account, p, pl, sig))
		problem(rp, "signature does not verify with the account key");
	json_object_put(payload);
	json_object_put(hdr);
	json_object_put(jws);
}

/* Checks one request against the next recorded one; the answer to send (caller frees). */
static char *answer(replay *rp, const char *method, const char *path, const char *ctype,
		    const char *body)
{
	json_object *rec = json_object_array_get_idx(rp->exchange, rp->next), *resp = NULL,
		    *headers = NULL;
	char *url = NULL, *out = NULL, *b = NULL, *h;
	size_t i, outlen = 0;
	FILE *f;

	if (rec == NULL) {
		problem(rp, "%s %s after the end of the recording", method, path);
		return strdup("HTTP/1.1 500 Over\r\nContent-Length: 0\r\n\r\n");
	}
	if (strcmp(method, or_none(jstr(rec, "method"))) != 0 ||
	    strcmp(path, or_none(jstr(rec, "path"))) != 0) {
		problem(rp, "%s, recorded %s", method, or_none(jstr(rec, "method")));
		problem(rp, "path %s, recorded %s", path, or_none(jstr(rec, "path")));
	}
	if (asprintf(&url, "%s%s", rp->base, path) < 0)
		url = NULL;
	if (strcmp(method, "POST") == 0) {
		if (ctype == NULL || strcmp(ctype, "application/jose+json") != 0)
			problem(rp, "Content-Type %s, not application/jose+json", or_none(ctype));
		check_jws(rp, rec, body, url);
	}
	free(url);
	json_object_object_get_ex(rec, "response", &resp);
	json_object_object_get_ex(resp, "headers", &headers);
	b = rebase(rp, jstr(resp, "body"));
	f = open_memstream(&out, &outlen);
	fprintf(f, "HTTP/1.1 %d Recorded\r\n",
		json_object_get_int(json_object_object_get(resp, "status")));
	for (i = 0; i < json_object_array_length(headers); i++) {
		json_object *kv = json_object_array_get_idx(headers, i);
		const char *k = json_object_get_string(json_object_array_get_idx(kv, 0));

		h = rebase(rp, json_object_get_string(json_object_array_get_idx(kv, 1)));
		fprintf(f, "%s: %s\r\n", k, h);
		if (strcasecmp(k, "Replay-Nonce") == 0) {
			free(rp->nonce);
			rp->nonce = strdup(h);
		}
		free(h);
	}
	fprintf(f, "Content-Length: %zu\r\n\r\n", strcmp(method, "HEAD") == 0 ? 0 : strlen(b));
	if (strcmp(method, "HEAD") != 0)
		fputs(b, f);
	fclose(f);
	free(b);
	rp->next++;
	return out;
}

/* The value of header name in head (NULL-terminated lines), or NULL (caller frees). */
static char *header(const char *head, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = strstr(head, "\r\n"); l != NULL; l = strstr(l + 2, "\r\n"))
		if (strncasecmp(l + 2, name, n) == 0 && l[2 + n] == ':') {
			const char *v = l + 3 + n + strspn(l + 3 + n, " ");

			return strndup(v, strcspn(v, "\r\n"));
		}
	return NULL;
}

/* Serves requests on one connection until the client closes it. */
static void serve_conn(replay *rp, SSL *ssl)
{
	char buf[65536];
	size_t have = 0;
	int n;

	for (;;) {
		char *end = NULL, method[8] = "", path[512] = "", *cl, *ct, *out;
		size_t head, len;

		buf[have] = '\0';
		while ((end = strstr(buf, "\r\n\r\n")) == NULL) {
			if (have >= sizeof(buf) - 1 ||
			    (n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - 1 - have))) <= 0)
				return;
			have += (size_t)n;
			buf[have] = '\0';
		}
		head = (size_t)(end - buf) + 4;
		cl = header(buf, "Content-Length");
		ct = header(buf, "Content-Type");
		len = cl ? strtoul(cl, NULL, 10) : 0;
		free(cl);
		while (have < head + len && have < sizeof(buf) - 1 &&
		       (n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - 1 - have))) > 0)
			have += (size_t)n;
		if (have < head + len) {
			free(ct);
			return;
		}
		sscanf(buf, "%7s %511s", method, path);
		{
			char save = buf[head + len];

			buf[head + len] = '\0';
			out = answer(rp, method, path, ct, buf + head);
			buf[head + len] = save;
		}
		free(ct);
		SSL_write(ssl, out, (int)strlen(out));
		free(out);
		memmove(buf, buf + head + len, have - head - len);
		have -= head + len;
	}
}

static void *serve(void *arg)
{
	replay *rp = arg;

	while (!rp->stop) {
		int fd = accept(rp->listen_fd, NULL, NULL);
		SSL *ssl = fd >= 0 && !rp->stop ? SSL_new(rp->ssl) : NULL;

		if (ssl != NULL && SSL_set_fd(ssl, fd) && SSL_accept(ssl) == 1)
			serve_conn(rp, ssl);
		SSL_free(ssl);
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

static void replay_start(fixture *f)
{
	replay *rp = &f->rp;
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	char *path = NULL;

	assert_true(asprintf(&path, "%s/acme/exchange.json", RECORDED_DIR) > 0);
	rp->exchange = json_object_from_file(path);
	free(path);
	assert_non_null(rp->exchange);
	rp->account = f->account;
	rp->csr = f->csr_b64;
	rp->ssl = SSL_CTX_new(TLS_server_method());
	assert_non_null(rp->ssl);
	assert_int_equal(SSL_CTX_use_certificate(rp->ssl, f->tls.x509), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(rp->ssl, f->tls.key), 1);
	rp->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(rp->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(rp->listen_fd, 4), 0);
	assert_int_equal(getsockname(rp->listen_fd, (struct sockaddr *)&a, &len), 0);
	snprintf(rp->base, sizeof(rp->base), "https://127.0.0.1:%d", ntohs(a.sin_port));
	assert_int_equal(pthread_create(&rp->thread, NULL, serve, rp), 0);
	assert_true(asprintf(&f->profile.url, "%s/dir", rp->base) > 0);
}

static void replay_stop(replay *rp)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* wake the accept() with a connection that says nothing */
	rp->stop = true;
	getsockname(rp->listen_fd, (struct sockaddr *)&a, &len);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		shutdown(fd, SHUT_RDWR);
	pthread_join(rp->thread, NULL);
	if (fd >= 0)
		close(fd);
	close(rp->listen_fd);
	SSL_CTX_free(rp->ssl);
	json_object_put(rp->exchange);
	free(rp->nonce);
}

static cs_rv load_account_key(void *arg, const char *uri, EVP_PKEY **out, cs_err *err)
{
	fixture *f = arg;

	if (strcmp(uri, "pkcs11:object=recorded-account") != 0)
		return cs_err_set(err, CS_ERR_KEY, "unexpected key %s", uri);
	EVP_PKEY_up_ref(f->account);
	*out = f->account;
	return CS_OK;
}

/* The request the recording was made with: CN and a DNS SAN of CN. */
static X509_REQ *make_request(char **b64)
{
	X509_REQ *req = X509_REQ_new();
	EVP_PKEY *key = tu_key();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, "DNS:" CN);
	unsigned char *der = NULL;
	int len;

	X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_ASC,
				   (const unsigned char *)CN, -1, -1, 0);
	X509_REQ_set_pubkey(req, key);
	sk_X509_EXTENSION_push(exts, san);
	X509_REQ_add_extensions(req, exts);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	EVP_PKEY_free(key);
	len = i2d_X509_REQ(req, &der);
	assert_true(len > 0);
	*b64 = b64url_encode(der, (size_t)len);
	OPENSSL_free(der);
	return req;
}

static char *write_file(const char *dir, const char *name, const char *text)
{
	char *path = NULL;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	X509_EXTENSION *san;
	char *acct_dir = NULL, *pem = NULL;
	BIO *b = BIO_new(BIO_s_mem()), *conf;
	long n;

	f->tls = tu_make("127.0.0.1", NULL, 0, -1, 30);
	san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, "IP:127.0.0.1");
	X509_add_ext(f->tls.x509, san, -1);
	X509_EXTENSION_free(san);
	assert_true(X509_sign(f->tls.x509, f->tls.key, EVP_sha256()) > 0);
	f->store = tu_store(&f->dir);
	PEM_write_bio_X509(b, f->tls.x509);
	n = BIO_get_mem_data(b, &pem);
	pem = strndup(pem, (size_t)n);
	BIO_free(b);
	f->ca_file = write_file(f->dir, "ca.pem", pem);
	free(pem);
	/* the account key is known (as acme/NAME.account names it), not made in a token */
	f->account = tu_key();
	assert_true(asprintf(&acct_dir, "%s/acme", cs_store_dir(f->store)) > 0);
	assert_int_equal(mkdir(acct_dir, 0700), 0);
	free(write_file(acct_dir, "recorded.account", "key = pkcs11:object=recorded-account\n"));
	free(acct_dir);
	f->req = make_request(&f->csr_b64);
	f->keys.load_key = load_account_key;
	f->keys.arg = f;
	f->profile.name = "recorded";
	f->profile.protocol = "acme";
	f->profile.ca_file = f->ca_file;
	f->profile.store_dir = f->dir;
	f->profile.connect_timeout = 10;
	f->profile.timeout = 30;
	f->profile.conf = NCONF_new(NULL);
	/* the http-01 responder on any free port: nobody fetches from it here */
	conf = BIO_new_mem_buf("[ca.recorded]\nlisten = 127.0.0.1:0\n"
			       "email = admin@certstore.test\n",
			       -1);
	assert_int_equal(NCONF_load_bio(f->profile.conf, conf, NULL), 1);
	BIO_free(conf);
	f->ctx.store = f->store;
	f->ctx.keys = &f->keys;
	f->ctx.profile = &f->profile;
	replay_start(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	replay_stop(&f->rp);
	NCONF_free(f->profile.conf);
	free(f->profile.url);
	X509_REQ_free(f->req);
	free(f->csr_b64);
	EVP_PKEY_free(f->account);
	free(f->ca_file);
	cs_store_close(f->store);
	tu_rmdir(f->dir);
	tu_free(&f->tls);
	free(f);
	return 0;
}

static void test_acme_recorded_exchange_issues_the_certificate(void **state)
{
	fixture *f = *state;
	enroll_answer ans = {0};
	cs_pending pending = {0};
	cs_err err = {0};
	cs_rv rv = enroll_acme.submit(&f->ctx, f->req, &pending, &ans, &err);

	if (f->rp.problems[0] != '\0')
		fail_msg("the client's requests differ from the recording:\n%s", f->rp.problems);
	if (rv != CS_OK)
		fail_msg("submit: %s", err.msg);
	/* every recorded answer was asked for, in order */
	assert_int_equal(f->rp.next, json_object_array_length(f->rp.exchange));
	assert_int_equal(ans.state, ENROLL_ISSUED);
	/* the certificate for the requested name, then the chain pebble sent */
	assert_int_equal(ans.certs.n, 2);
	assert_int_equal(X509_check_host(ans.certs.items[0]->x509, CN, 0, 0, NULL), 1);
	assert_non_null(ans.ca_request_id);
	assert_true(strncmp(ans.ca_request_id, f->rp.base, strlen(f->rp.base)) == 0);
	assert_non_null(strstr(ans.ca_request_id, "/my-order/"));
	enroll_answer_clear(&ans);
}

static void test_acme_recorded_exchange_keeps_the_account_url(void **state)
{
	fixture *f = *state;
	enroll_answer ans = {0};
	cs_pending pending = {0};
	cs_err err = {0};
	char *path = NULL, line[512] = "", want[512];
	FILE *a;

	assert_int_equal(enroll_acme.submit(&f->ctx, f->req, &pending, &ans, &err), CS_OK);
	enroll_answer_clear(&ans);
	assert_true(asprintf(&path, "%s/acme/recorded.account", cs_store_dir(f->store)) > 0);
	a = fopen(path, "r");
	assert_non_null(a);
	while (fgets(line, sizeof(line), a) != NULL && strncmp(line, "account = ", 10) != 0)
		;
	fclose(a);
	free(path);
	snprintf(want, sizeof(want), "account = %s/my-account/", f->rp.base);
	assert_true(strncmp(line, want, strlen(want)) == 0);
}

/*
 * The recorded answer to exchange i replaced by status and body (an object
 * whose {BASE} the replay fills in), and the exchanges after it dropped: the
 * CA's last word is this answer.
 */
static void rerecord(fixture *f, size_t i, int status, json_object *body)
{
	json_object *rec = json_object_array_get_idx(f->rp.exchange, i), *resp = NULL;
	size_t n = json_object_array_length(f->rp.exchange);

	assert_true(json_object_object_get_ex(rec, "response", &resp));
	json_object_object_add(resp, "status", json_object_new_int(status));
	json_object_object_add(
		resp, "body",
		json_object_new_string(json_object_to_json_string_ext(
			body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)));
	json_object_put(body);
	if (n > i + 1)
		assert_int_equal(json_object_array_del_idx(f->rp.exchange, i + 1, n - i - 1), 0);
}

/* The recorded order (exchange 8, the poll after finalize) ending invalid. */
static json_object *invalid_order(fixture *f)
{
	json_object *rec = json_object_array_get_idx(f->rp.exchange, 8), *resp = NULL, *order, *e;

	json_object_object_get_ex(rec, "response", &resp);
	order = json_tokener_parse(jstr(resp, "body"));
	assert_non_null(order);
	assert_string_equal(jstr(order, "status"), "valid");
	json_object_object_add(order, "status", json_object_new_string("invalid"));
	json_object_object_del(order, "certificate");
	e = json_tokener_parse("{\"type\": \"urn:ietf:params:acme:error:rejectedIdentifier\", "
			       "\"detail\": \"issuance for this name is forbidden by policy\"}");
	json_object_object_add(order, "error", e);
	return order;
}

static json_object *problem_doc(const char *type, const char *detail, int status)
{
	json_object *o = json_object_new_object();
	char *t = NULL;

	assert_true(asprintf(&t, "urn:ietf:params:acme:error:%s", type) > 0);
	json_object_object_add(o, "type", json_object_new_string(t));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	json_object_object_add(o, "status", json_object_new_int(status));
	free(t);
	return o;
}

/* submit against the edited recording: every answer asked for, and rv. */
static cs_rv submit_edited(fixture *f, enroll_answer *ans, cs_err *err)
{
	cs_pending pending = {0};
	cs_rv rv = enroll_acme.submit(&f->ctx, f->req, &pending, ans, err);

	if (f->rp.problems[0] != '\0')
		fail_msg("the client's requests differ from the recording:\n%s", f->rp.problems);
	assert_int_equal(f->rp.next, json_object_array_length(f->rp.exchange));
	return rv;
}

/* RFC 8555 7.1.6: an invalid order will not be issued, the flow drops the request. */
static void test_acme_invalid_order_after_finalize_is_denied(void **state)
{
	fixture *f = *state;
	enroll_answer ans = {0};
	cs_err err = {0};

	rerecord(f, 8, 200, invalid_order(f));
	assert_int_equal(submit_edited(f, &ans, &err), CS_ERR_CA);
	assert_int_equal(ans.state, ENROLL_DENIED);
	assert_non_null(strstr(err.msg, "will not issue the request: its order is invalid"));
	assert_non_null(strstr(err.msg, "issuance for this name is forbidden by policy"));
	assert_null(ans.ca_request_id);
	assert_int_equal(ans.certs.n, 0);
}

/* --retrieve of the order's URL: directory, nonce, account, then the order, invalid. */
static void test_acme_invalid_order_on_retrieve_is_denied(void **state)
{
	fixture *f = *state;
	json_object *rec = json_object_array_get_idx(f->rp.exchange, 8);
	enroll_answer ans = {0};
	cs_pending pending = {.id = 7};
	cs_err err = {0};

	rerecord(f, 8, 200, invalid_order(f));
	assert_int_equal(json_object_array_del_idx(f->rp.exchange, 3, 5), 0);
	assert_true(asprintf(&pending.ca_request_id, "%s%s", f->rp.base, jstr(rec, "path")) > 0);
	assert_int_equal(enroll_acme.retrieve(&f->ctx, &pending, &ans, &err), CS_ERR_CA);
	free(pending.ca_request_id);
	if (f->rp.problems[0] != '\0')
		fail_msg("the client's requests differ from the recording:\n%s", f->rp.problems);
	assert_int_equal(f->rp.next, 4);
	assert_int_equal(ans.state, ENROLL_DENIED);
	assert_non_null(strstr(err.msg, "its order is invalid"));
}

/* RFC 8555 6.7 badCSR at finalize: the request itself is refused, final. */
static void test_acme_bad_csr_at_finalize_is_denied(void **state)
{
	fixture *f = *state;
	enroll_answer ans = {0};
	cs_err err = {0};

	rerecord(f, 7, 400,
		 problem_doc("badCSR", "CSR contains a public key for a known account", 400));
	assert_int_equal(submit_edited(f, &ans, &err), CS_ERR_CA);
	assert_int_equal(ans.state, ENROLL_DENIED);
	assert_non_null(strstr(err.msg, "badCSR"));
	assert_non_null(strstr(err.msg, "CSR contains a public key for a known account"));
}

/* The server's own failure at finalize says nothing about the request: not denied. */
static void test_acme_server_error_at_finalize_is_not_denied(void **state)
{
	fixture *f = *state;
	enroll_answer ans = {0};
	cs_err err = {0};

	rerecord(f, 7, 500, problem_doc("serverInternal", "the CA's database is down", 500));
	assert_int_equal(submit_edited(f, &ans, &err), CS_ERR_CA);
	assert_int_not_equal(ans.state, ENROLL_DENIED);
	assert_non_null(strstr(err.msg, "serverInternal"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_acme_recorded_exchange_issues_the_certificate,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_acme_recorded_exchange_keeps_the_account_url,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_acme_invalid_order_after_finalize_is_denied,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_acme_invalid_order_on_retrieve_is_denied,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_acme_bad_csr_at_finalize_is_denied, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_acme_server_error_at_finalize_is_not_denied,
						setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN); /* a client that gave up must not end the test */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
