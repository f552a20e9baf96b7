/*
 * cs-sign - signs with a store key through the certstore provider, the way
 * a TLS server does (OSSL_STORE load, then EVP_DigestSign), and verifies
 * every signature with the key's public half in the default provider.
 *
 *   cs-sign [--pem] [--first] [--threads N] [--count N] [--fork] [--drop-to USER]
 *           [--flood SECONDS] KEY
 *
 * KEY is a PEM key reference file or a certstore: URI.  The provider is
 * loaded after default (--first: before it) from $CERTSTORE_PROVIDER_DIR
 * (or by openssl.cnf when that variable is unset).  --pem: KEY is read with
 * PEM_read_bio_PrivateKey, as nginx, haproxy and apache read key files,
 * instead of through OSSL_STORE.  --fork: the parent signs, then a child
 * signs (PKCS#11 sessions do not survive fork: the key layer must open its
 * own), then the parent again.  --threads: N threads sign at once.
 * --drop-to: setgid/setuid to USER after loading the key (a worker).
 * --flood: sign for SECONDS (one thread; with --count, stop after COUNT
 * attempts), counting failures instead of stopping at the first; prints
 * "signed N failed M" and exits 1 when M > 0.
 * Prints "signed N" and exits 0, or prints OpenSSL's errors and exits 1.
 */
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <openssl/x509.h>

static EVP_PKEY *key, *pub;
static int count = 1;

static int sign_verify(void)
{
	static const unsigned char msg[] = "a message signed in the token";
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *s = EVP_MD_CTX_new(), *v = EVP_MD_CTX_new();
	int ok;

	ok = s != NULL && v != NULL && EVP_DigestSignInit(s, NULL, EVP_sha256(), NULL, key) == 1 &&
	     EVP_DigestSign(s, sig, &siglen, msg, sizeof(msg)) == 1 &&
	     EVP_DigestVerifyInit(v, NULL, EVP_sha256(), NULL, pub) == 1 &&
	     EVP_DigestVerify(v, sig, siglen, msg, sizeof(msg)) == 1;
	EVP_MD_CTX_free(s);
	EVP_MD_CTX_free(v);
	return ok;
}

/* --flood: signatures made and failed until the deadline. */
static int flood(int seconds, int limit)
{
	time_t end = time(NULL) + seconds;
	long done = 0, failed = 0;

	while (time(NULL) < end && (limit <= 0 || done + failed < limit)) {
		if (sign_verify()) {
			done++;
		} else {
			failed++;
			if (failed <= 3)
				ERR_print_errors_fp(stderr);
			ERR_clear_error();
		}
	}
	printf("signed %ld failed %ld\n", done, failed);
	return failed == 0 ? 0 : 1;
}

static int sign_n(void)
{
	for (int i = 0; i < count; i++)
		if (!sign_verify())
			return 0;
	return 1;
}

/*
 * As nginx & co. read ssl_certificate_key: no OSSL_STORE in the process, and
 * libssl has fetched the RSA and EC key managers before (SSL_CTX_new, for its
 * groups and signature algorithms), so OpenSSL's fetch cache already answers
 * "RSA" and "EC" with default's: a lazy provider must not depend on a fetch
 * by those names landing on it.
 */
static EVP_PKEY *load_pem(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	EVP_PKEY *k;

	EVP_KEYMGMT_free(EVP_KEYMGMT_fetch(NULL, "RSA", NULL));
	EVP_KEYMGMT_free(EVP_KEYMGMT_fetch(NULL, "EC", NULL));
	k = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	return k;
}

static void *thread_main(void *arg)
{
	(void)arg;
	return sign_n() ? (void *)1 : NULL;
}

static EVP_PKEY *load(const char *uri)
{
	OSSL_STORE_CTX *st = OSSL_STORE_open(uri, NULL, NULL, NULL, NULL);
	OSSL_STORE_INFO *info;
	EVP_PKEY *k = NULL;

	if (st == NULL)
		return NULL;
	OSSL_STORE_expect(st, OSSL_STORE_INFO_PKEY);
	while (k == NULL && !OSSL_STORE_eof(st) && (info = OSSL_STORE_load(st)) != NULL) {
		if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
			k = OSSL_STORE_INFO_get1_PKEY(info);
		OSSL_STORE_INFO_free(info);
	}
	OSSL_STORE_close(st);
	return k;
}

static int drop_to(const char *user)
{
	struct passwd *pw = getpwnam(user);

	return pw != NULL && setgroups(0, NULL) == 0 && setgid(pw->pw_gid) == 0 &&
	       setuid(pw->pw_uid) == 0;
}

int main(int argc, char **argv)
{
	const char *dir = getenv("CERTSTORE_PROVIDER_DIR"), *user = NULL;
	int threads = 0, do_fork = 0, ok = 1, i, status, flood_seconds = 0, count_given = 0;
	int pem = 0, first = 0;
	unsigned char *der = NULL;
	const unsigned char *p;
	int len;

	for (i = 1; i < argc - 1; i++) {
		if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc - 1)
			threads = atoi(argv[++i]);
		else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc - 1)
			count = atoi(argv[++i]), count_given = 1;
		else if (strcmp(argv[i], "--pem") == 0)
			pem = 1;
		else if (strcmp(argv[i], "--first") == 0)
			first = 1;
		else if (strcmp(argv[i], "--fork") == 0)
			do_fork = 1;
		else if (strcmp(argv[i], "--drop-to") == 0 && i + 1 < argc - 1)
			user = argv[++i];
		else if (strcmp(argv[i], "--flood") == 0 && i + 1 < argc - 1)
			flood_seconds = atoi(argv[++i]);
		else
			break;
	}
	if (i != argc - 1) {
		fprintf(stderr,
			"usage: cs-sign [--pem] [--first] [--threads N] [--count N] [--fork] "
			"[--drop-to USER] [--flood SECONDS] KEY\n");
		return 2;
	}
	if (dir != NULL && *dir != '\0' &&
	    (!OSSL_PROVIDER_set_default_search_path(NULL, dir) ||
	     OSSL_PROVIDER_load(NULL, first ? "certstore" : "default") == NULL ||
	     OSSL_PROVIDER_load(NULL, first ? "default" : "certstore") == NULL))
		goto fail;
	key = pem ? load_pem(argv[argc - 1]) : load(argv[argc - 1]);
	if (key == NULL)
		goto fail;
	/* The public half as a default-provider key, to verify with. */
	len = i2d_PUBKEY(key, &der);
	p = der;
	pub = len > 0 ? d2i_PUBKEY(NULL, &p, len) : NULL;
	OPENSSL_free(der);
	if (pub == NULL || (user != NULL && !drop_to(user)))
		goto fail;

	if (flood_seconds > 0)
		return flood(flood_seconds, count_given ? count : 0);
	if (do_fork) {
		pid_t pid;

		ok = sign_n();
		pid = ok ? fork() : -1;
		if (pid == 0) {
			ok = sign_n();
			if (!ok)
				ERR_print_errors_fp(stderr);
			_exit(ok ? 0 : 1);
		}
		ok = ok && pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		     WEXITSTATUS(status) == 0;
		ok = ok && sign_n();
	} else if (threads > 0) {
		pthread_t th[64];
		void *res;

		if (threads > 64)
			threads = 64;
		for (i = 0; i < threads; i++)
			if (pthread_create(&th[i], NULL, thread_main, NULL) != 0)
				return 1;
		for (i = 0; i < threads; i++) {
			pthread_join(th[i], &res);
			ok = ok && res != NULL;
		}
	} else {
		ok = sign_n();
	}
	if (!ok)
		goto fail;
	printf("signed %d\n", (do_fork ? 3 : threads > 0 ? threads : 1) * count);
	return 0;
fail:
	ERR_print_errors_fp(stderr);
	return 1;
}
