/*
 * softhsm.c - everything that knows SoftHSM2: the embedded default key
 * token kept under the store directory, made through PKCS#11 itself (no
 * softhsm2-util); the SOFTHSM2_CONF it is found by; and its token.object
 * kept whole against kill -9.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <fcntl.h>
#include <libgen.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/conf.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "config.h"
#include "keys_internal.h"

#define CS_SOFTHSM_LABEL "certstore"

/* ---- SOFTHSM2_CONF ------------------------------------------------------ */

static pthread_mutex_t g_shconf_lock = PTHREAD_MUTEX_INITIALIZER;
static char *g_shconf;
static int g_shconf_users;

cs_rv cs_softhsm_conf_acquire(const char *path, cs_err *err)
{
	cs_rv rv = CS_OK;
	const char *cur;

	if (path == NULL)
		return CS_OK;
	pthread_mutex_lock(&g_shconf_lock);
	if (g_shconf_users > 0 && strcmp(g_shconf, path) != 0) {
		rv = cs_err_set(err, CS_ERR_TOKEN,
				"SoftHSM2 is already in use in this process with %s; "
				"close that token before opening one configured by %s",
				g_shconf, path);
		goto out;
	}
	if (g_shconf_users == 0) {
		free(g_shconf);
		g_shconf = strdup(path);
		if (g_shconf == NULL) {
			rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
			goto out;
		}
	}
	cur = getenv("SOFTHSM2_CONF");
	if ((cur == NULL || strcmp(cur, path) != 0) && setenv("SOFTHSM2_CONF", path, 1) != 0) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot set SOFTHSM2_CONF");
		goto out;
	}
	g_shconf_users++;
out:
	pthread_mutex_unlock(&g_shconf_lock);
	return rv;
}

void cs_softhsm_conf_release(const char *path)
{
	if (path == NULL)
		return;
	pthread_mutex_lock(&g_shconf_lock);
	if (g_shconf_users > 0)
		g_shconf_users--;
	pthread_mutex_unlock(&g_shconf_lock);
}

/* ---- certstore's cross-process lock around the token ----------------------
 *
 * Several processes and one SoftHSM2 2.6.1 file token: SoftHSM2 rewrites
 * token.object at every C_Login (and object files when objects change)
 * under an fcntl write lock, but through a stdio stream: it truncates the
 * file, *unlocks*, and only then does fclose() write the new content.  In
 * between, the file is empty and unlocked, and another process that reads
 * it (at C_Initialize, C_GetSlotList, C_Login, or when it re-checks a
 * token object before an operation) finds no token ("no token matching",
 * CKR_TOKEN_NOT_PRESENT) or fails its login (CKR_GENERAL_ERROR).  strace
 * shows the order: F_WRLCK, ftruncate(0), F_UNLCK, write(320 bytes).  So
 * certstore's processes take a lock of their own around every use of an
 * embedded SoftHSM2 token: flock(2) on <token dir>/access.lock, exclusive
 * while loading the module and logging in (and around writes to token
 * objects), shared while a borrowed session signs or reads.  Signers run
 * in parallel; only logins and key changes wait for each other.  Processes
 * that use the token without certstore (softhsm2-util, pkcs11-tool on
 * libsofthsm2.so) are not covered: give the token to one owner.
 */

char *cs_softhsm_access_lock_path(const char *softhsm_conf)
{
	char *copy, *path = NULL;

	if (softhsm_conf == NULL || (copy = strdup(softhsm_conf)) == NULL)
		return NULL;
	if (asprintf(&path, "%s/access.lock", dirname(copy)) < 0)
		path = NULL;
	free(copy);
	return path;
}

int cs_softhsm_access_lock(const char *lock_path, int how)
{
	int fd;

	if (lock_path == NULL)
		return -1;
	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		fd = open(lock_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	while (flock(fd, how) != 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

void cs_softhsm_access_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

/* Random PIN: 16 bytes as 32 hex digits. */
static cs_rv random_pin(char out[33], cs_err *err)
{
	unsigned char b[16];

	if (RAND_priv_bytes(b, sizeof(b)) != 1)
		return cs_err_set(err, CS_ERR_INTERNAL, "no random bytes for a PIN");
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	OPENSSL_cleanse(b, sizeof(b));
	return CS_OK;
}

cs_rv cs_file_write_new(const char *path, const char *data, int mode, bool append, cs_err *err)
{
	int fd, flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW;
	size_t len = strlen(data), done = 0;
	cs_rv rv = CS_OK;

	flags |= append ? O_APPEND : O_CREAT | O_EXCL;
	fd = open(path, flags, mode);
	if (fd < 0)
		return cs_err_set(err, errno == EEXIST ? CS_ERR_DUPLICATE : CS_ERR_STORE, "%s: %s",
				  path, strerror(errno));
	if (!append && fchmod(fd, (mode_t)mode) != 0)
		rv = cs_err_set(err, CS_ERR_STORE, "%s: %s", path, strerror(errno));
	while (rv == CS_OK && done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rv = cs_err_set(err, CS_ERR_STORE, "%s: %s", path, strerror(errno));
		else
			done += (size_t)n;
	}
	if (rv == CS_OK && fsync(fd) != 0)
		rv = cs_err_set(err, CS_ERR_STORE, "%s: %s", path, strerror(errno));
	close(fd);
	return rv;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

bool cs_conf_has_token(const char *path)
{
	CONF *conf = NCONF_new(NULL);
	bool has = false;

	if (conf != NULL && NCONF_load(conf, path, NULL) > 0)
		has = NCONF_get_section(conf, "token") != NULL;
	NCONF_free(conf);
	ERR_clear_error();
	return has;
}

/* C_InitToken on the free slot, then the user PIN. */
static cs_rv init_token(CK_FUNCTION_LIST *p11, const char *so_pin, const char *user_pin,
			cs_err *err)
{
	CK_SLOT_ID slots[64], slot = 0;
	CK_ULONG n = 64;
	CK_TOKEN_INFO ti;
	CK_UTF8CHAR label[32];
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	bool found = false;
	CK_RV crv;

	crv = p11->C_GetSlotList(CK_TRUE, slots, &n);
	for (CK_ULONG i = 0; crv == CKR_OK && i < n && !found; i++) {
		if (p11->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
		    !(ti.flags & CKF_TOKEN_INITIALIZED)) {
			slot = slots[i];
			found = true;
		}
	}
	if (crv != CKR_OK)
		return cs_p11_err(err, crv, "SoftHSM2: listing slots");
	if (!found)
		return cs_err_set(err, CS_ERR_TOKEN, "SoftHSM2 offers no free slot");
	memset(label, ' ', sizeof(label));
	memcpy(label, CS_SOFTHSM_LABEL, strlen(CS_SOFTHSM_LABEL));
	crv = p11->C_InitToken(slot, (CK_UTF8CHAR *)so_pin, strlen(so_pin), label);
	if (crv != CKR_OK)
		return cs_p11_err(err, crv, "SoftHSM2: initialising the token");
	/* SoftHSM2 gives the new token a new slot id: find it again. */
	n = 64;
	found = false;
	crv = p11->C_GetSlotList(CK_TRUE, slots, &n);
	for (CK_ULONG i = 0; crv == CKR_OK && i < n && !found; i++) {
		char l[33];

		if (p11->C_GetTokenInfo(slots[i], &ti) != CKR_OK ||
		    !(ti.flags & CKF_TOKEN_INITIALIZED))
			continue;
		cs_p11_label(l, ti.label, sizeof(ti.label));
		if (strcmp(l, CS_SOFTHSM_LABEL) == 0) {
			slot = slots[i];
			found = true;
		}
	}
	if (!found)
		return cs_err_set(err, CS_ERR_TOKEN, "SoftHSM2 lost the token it just made");
	crv = p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (crv == CKR_OK)
		crv = p11->C_Login(s, CKU_SO, (CK_UTF8CHAR *)so_pin, strlen(so_pin));
	if (crv == CKR_OK) {
		crv = p11->C_InitPIN(s, (CK_UTF8CHAR *)user_pin, strlen(user_pin));
		p11->C_Logout(s);
	}
	if (s != CK_INVALID_HANDLE)
		p11->C_CloseSession(s);
	if (crv != CKR_OK)
		return cs_p11_err(err, crv, "SoftHSM2: setting the user PIN");
	return CS_OK;
}

/* What cs_token_init_softhsm makes, and what it has made so far (undone
 * when a later step fails). */
typedef struct {
	char *tokdir, *tokens, *shconf, *pinpath, *confpath;
	bool made_dir, made_pin, made_conf;
	bool append; /* certstore.conf exists (without [token]): add to it */
} softhsm_init;

static cs_rv init_paths(softhsm_init *si, const char *store_dir, cs_err *err)
{
	if (asprintf(&si->tokdir, "%s/token", store_dir) < 0)
		si->tokdir = NULL;
	if (asprintf(&si->tokens, "%s/token/tokens", store_dir) < 0)
		si->tokens = NULL;
	if (asprintf(&si->shconf, "%s/token/softhsm2.conf", store_dir) < 0)
		si->shconf = NULL;
	if (asprintf(&si->pinpath, "%s/pin", store_dir) < 0)
		si->pinpath = NULL;
	if (asprintf(&si->confpath, "%s/certstore.conf", store_dir) < 0)
		si->confpath = NULL;
	if (!si->tokdir || !si->tokens || !si->shconf || !si->pinpath || !si->confpath)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	return CS_OK;
}

/* A store has one token: refuse when it already names one or has a PIN. */
static cs_rv init_check_fresh(softhsm_init *si, cs_err *err)
{
	struct stat st;

	if (lstat(si->confpath, &st) == 0) {
		if (cs_conf_has_token(si->confpath))
			return cs_err_set(err, CS_ERR_DUPLICATE, "%s already names a key token",
					  si->confpath);
		si->append = true;
	}
	if (lstat(si->pinpath, &st) == 0)
		return cs_err_set(err, CS_ERR_DUPLICATE, "%s already exists", si->pinpath);
	return CS_OK;
}

/* <store>/token/, its tokens/ and the softhsm2.conf that points there. */
static cs_rv init_token_dir(softhsm_init *si, cs_err *err)
{
	char *shtext = NULL;
	cs_rv rv;

	if (mkdir(si->tokdir, 0700) != 0)
		return cs_err_set(err, errno == EEXIST ? CS_ERR_DUPLICATE : CS_ERR_STORE, "%s: %s",
				  si->tokdir, strerror(errno));
	si->made_dir = true;
	if (mkdir(si->tokens, 0700) != 0)
		return cs_err_set(err, CS_ERR_STORE, "%s: %s", si->tokens, strerror(errno));
	if (asprintf(&shtext,
		     "# SoftHSM2 configuration of this certstore's key token.\n"
		     "directories.tokendir = %s\n"
		     "objectstore.backend = file\n"
		     "log.level = ERROR\n"
		     "slots.removable = false\n",
		     si->tokens) < 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	rv = cs_file_write_new(si->shconf, shtext, 0600, false, err);
	free(shtext);
	return rv;
}

/* Initialises the token through SoftHSM2 itself, with SOFTHSM2_CONF held
 * for as long as the module is loaded. */
static cs_rv init_token_with(softhsm_init *si, const char *so_pin, const char *user_pin,
			     cs_err *err)
{
	CK_FUNCTION_LIST *p11 = NULL;
	cs_rv rv = cs_softhsm_conf_acquire(si->shconf, err);

	if (rv != CS_OK)
		return rv;
	rv = cs_module_load(CS_SOFTHSM_MODULE, &p11, err);
	if (rv == CS_OK)
		rv = init_token(p11, so_pin, user_pin, err);
	cs_module_unload(p11);
	cs_softhsm_conf_release(si->shconf);
	return rv;
}

/* The PIN file (0600) and the [token] section that names the new token. */
static cs_rv init_write_config(softhsm_init *si, const char *user_pin, cs_err *err)
{
	char line[40], *conftext = NULL;
	cs_rv rv;

	snprintf(line, sizeof(line), "%s\n", user_pin);
	rv = cs_file_write_new(si->pinpath, line, 0600, false, err);
	OPENSSL_cleanse(line, sizeof(line));
	if (rv != CS_OK)
		return rv;
	si->made_pin = true;
	if (asprintf(&conftext,
		     "%s# The key token: written by certstore init.\n"
		     "[token]\n"
		     "module = %s\n"
		     "token = pkcs11:token=" CS_SOFTHSM_LABEL "\n"
		     "pin-file = pin\n"
		     "softhsm-conf = token/softhsm2.conf\n",
		     si->append ? "\n" : "", CS_SOFTHSM_MODULE) < 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	rv = cs_file_write_new(si->confpath, conftext, 0644, si->append, err);
	si->made_conf = rv == CS_OK && !si->append;
	free(conftext);
	return rv;
}

cs_rv cs_token_init_softhsm(const char *store_dir, cs_err *err)
{
	softhsm_init si = {0};
	char so_pin[33] = "", user_pin[33] = "";
	struct stat st;
	cs_rv rv;

	if (stat(store_dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return cs_err_set(err, CS_ERR_STORE, "store directory %s does not exist",
				  store_dir);
	rv = init_paths(&si, store_dir, err);
	if (rv == CS_OK)
		rv = init_check_fresh(&si, err);
	if (rv == CS_OK)
		rv = init_token_dir(&si, err);
	if (rv == CS_OK)
		rv = random_pin(so_pin, err);
	if (rv == CS_OK)
		rv = random_pin(user_pin, err);
	if (rv == CS_OK)
		rv = init_token_with(&si, so_pin, user_pin, err);
	if (rv == CS_OK)
		rv = init_write_config(&si, user_pin, err);
	OPENSSL_cleanse(so_pin, sizeof(so_pin));
	OPENSSL_cleanse(user_pin, sizeof(user_pin));
	if (rv != CS_OK) {
		if (si.made_dir)
			nftw(si.tokdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		if (si.made_pin)
			unlink(si.pinpath);
		if (si.made_conf)
			unlink(si.confpath);
	}
	free(si.tokdir);
	free(si.tokens);
	free(si.shconf);
	free(si.pinpath);
	free(si.confpath);
	return rv;
}

/* ---- token.object against kill -9 ------------------------------------------
 *
 * SoftHSM2 2.6.1 rewrites token.object in place (truncate, then write) on
 * every C_Login, to store the token's flags.  A process killed between the
 * two leaves it empty, and the whole token is gone: no slot has the label
 * any more, every key is unusable.  Its content only changes with those
 * flags (and PINs, which certstore never changes after init), so a copy
 * taken while it is whole brings the token back.
 *
 * SoftHSM2 does not hold token.lock while it rewrites token.object (it locks
 * token.object itself, and lets go of that lock before its buffered write
 * reaches the file), so token.lock alone would let this see the file empty
 * while another process logs in, and "restore" it.  The caller holds
 * certstore's exclusive access lock (token.c), under which no certstore
 * process logs in: an empty file here is a real one.
 */

static void guard_one(const char *dir)
{
	char obj[PATH_MAX], bak[PATH_MAX], lck[PATH_MAX];
	cs_bytes cur = {0}, saved = {0};
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	bool whole, have_copy;
	int lock_fd;

	if (snprintf(obj, sizeof(obj), "%s/token.object", dir) >= (int)sizeof(obj) ||
	    snprintf(bak, sizeof(bak), "%s/token.object.certstore-copy", dir) >= (int)sizeof(bak) ||
	    snprintf(lck, sizeof(lck), "%s/token.lock", dir) >= (int)sizeof(lck))
		return;
	lock_fd = open(lck, O_RDWR | O_CLOEXEC);
	if (lock_fd < 0)
		return; /* not a SoftHSM2 token directory */
	if (fcntl(lock_fd, F_SETLKW, &fl) == 0) {
		/* an empty or missing file does not read */
		whole = cs_read_file(obj, &cur, NULL) == CS_OK;
		have_copy = cs_read_file(bak, &saved, NULL) == CS_OK;
		if (!whole && have_copy) {
			if (cs_write_file_atomic(obj, saved.data, saved.len, 0600, NULL) == CS_OK)
				fprintf(stderr,
					"certstore: %s was empty (a process killed while "
					"SoftHSM2 rewrote it): restored from its copy\n",
					obj);
		} else if (whole && (!have_copy || saved.len != cur.len ||
				     memcmp(saved.data, cur.data, cur.len) != 0)) {
			/* new flags, or PINs changed by hand: keep the newest whole one */
			(void)cs_write_file_atomic(bak, cur.data, cur.len, 0600, NULL);
		}
	}
	close(lock_fd); /* releases the lock */
	cs_bytes_clear(&cur);
	cs_bytes_clear(&saved);
}

void cs_softhsm_guard(const char *softhsm_conf)
{
	/* Once per process, before SoftHSM2 is in use in it: closing the lock
	 * file would drop SoftHSM2's own fcntl locks on it. */
	static pthread_mutex_t once_lock = PTHREAD_MUTEX_INITIALIZER;
	static bool done;
	char line[PATH_MAX + 64], dir[PATH_MAX], sub[PATH_MAX];
	char *p, *end;
	FILE *f;
	DIR *d;
	struct dirent *e;
	bool first;

	pthread_mutex_lock(&once_lock);
	first = !done;
	done = true;
	pthread_mutex_unlock(&once_lock);
	if (!first || softhsm_conf == NULL || (f = fopen(softhsm_conf, "r")) == NULL)
		return;
	dir[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		p = line + strspn(line, " \t");
		if (strncmp(p, "directories.tokendir", 20) != 0)
			continue;
		p += 20;
		p += strspn(p, " \t");
		if (*p++ != '=')
			continue;
		p += strspn(p, " \t");
		end = p + strcspn(p, "\r\n");
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		snprintf(dir, sizeof(dir), "%.*s", (int)(end - p), p);
	}
	fclose(f);
	if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) < (int)sizeof(sub))
			guard_one(sub);
	}
	closedir(d);
}
