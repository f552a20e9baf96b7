/*
 * token.c - finding the token, logging in, the session pool, and what
 * happens after fork().  Loading the module is p11_module.c's; what only
 * SoftHSM2 needs is softhsm.c's.
 *
 * SoftHSM2 2.6.1 (as Debian builds it) does not notice fork(): a child keeps
 * a copy of the parent's sessions and login.  Hardware and network modules
 * do not, and PKCS#11 says a child must C_Initialize again.  So in a child
 * we re-initialise through p11-kit (whose managed wrapper turns SoftHSM2's
 * CKR_CRYPTOKI_ALREADY_INITIALIZED into success), open fresh sessions, log in
 * (CKR_USER_ALREADY_LOGGED_IN is fine) and drop every cached object handle.
 * The parent's sessions are forgotten, never closed: on a shared connection
 * closing them would close them for the parent too.
 *
 * Several processes and one embedded SoftHSM2 token: certstore's own lock
 * around every use of it (exclusive to log in, shared to sign) is
 * softhsm.c's, cs_softhsm_access_lock; here it is only taken and released.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "keys_internal.h"

/* ---- the token's label ------------------------------------------------- */

const char *cs_token_label(const cs_token *tok)
{
	return tok->label;
}

/* ---- open tokens and fork() --------------------------------------------- */

static pthread_mutex_t g_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static cs_token *g_registry;
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

/* Holding every token lock across fork() means no child inherits a lock
 * some vanished thread was holding. */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&g_registry_lock);
	for (cs_token *t = g_registry; t != NULL; t = t->next)
		pthread_mutex_lock(&t->lock);
}

static void atfork_release(void)
{
	for (cs_token *t = g_registry; t != NULL; t = t->next)
		pthread_mutex_unlock(&t->lock);
	pthread_mutex_unlock(&g_registry_lock);
}

static void atfork_register(void)
{
	pthread_atfork(atfork_prepare, atfork_release, atfork_release);
}

static void registry_add(cs_token *t)
{
	pthread_once(&g_atfork_once, atfork_register);
	pthread_mutex_lock(&g_registry_lock);
	t->next = g_registry;
	g_registry = t;
	pthread_mutex_unlock(&g_registry_lock);
}

static void registry_remove(cs_token *t)
{
	pthread_mutex_lock(&g_registry_lock);
	for (cs_token **pp = &g_registry; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	pthread_mutex_unlock(&g_registry_lock);
}

/* ---- finding the token and logging in ----------------------------------- */

static cs_rv find_token(cs_token *t, cs_err *err)
{
	cs_rv rv;
	CK_RV crv;
	P11KitUri *uri = p11_kit_uri_new();
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0;
	CK_INFO minfo;
	int found = 0, r;
	char seen[512] = "";

	if (uri == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	r = p11_kit_uri_parse(t->cfg->token_uri, P11_KIT_URI_FOR_ANY, uri);
	if (r != P11_KIT_URI_OK) {
		rv = cs_err_set(err, CS_ERR_STORE, "token URI %s: %s", t->cfg->token_uri,
				p11_kit_uri_message(r));
		goto out;
	}
	crv = t->p11->C_GetInfo(&minfo);
	if (crv != CKR_OK) {
		rv = cs_p11_err(err, crv, "module %s", t->cfg->module);
		goto out;
	}
	crv = t->p11->C_GetSlotList(CK_TRUE, NULL, &n);
	if (crv == CKR_OK && n > 0) {
		slots = calloc(n, sizeof(*slots));
		if (slots == NULL) {
			rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
			goto out;
		}
		crv = t->p11->C_GetSlotList(CK_TRUE, slots, &n);
	}
	if (crv != CKR_OK) {
		rv = cs_p11_err(err, crv, "module %s: listing slots", t->cfg->module);
		goto out;
	}
	for (CK_ULONG i = 0; p11_kit_uri_match_module_info(uri, &minfo) && i < n; i++) {
		CK_SLOT_INFO sinfo;
		CK_TOKEN_INFO tinfo;
		char label[33];

		if (t->p11->C_GetSlotInfo(slots[i], &sinfo) != CKR_OK ||
		    t->p11->C_GetTokenInfo(slots[i], &tinfo) != CKR_OK ||
		    !(tinfo.flags & CKF_TOKEN_INITIALIZED))
			continue;
		cs_p11_label(label, tinfo.label, sizeof(tinfo.label));
		if (strlen(seen) + strlen(label) + 5 < sizeof(seen))
			snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s'%s'",
				 seen[0] ? ", " : "", label);
		if (!p11_kit_uri_match_slot_info(uri, &sinfo) ||
		    !p11_kit_uri_match_token_info(uri, &tinfo))
			continue;
		if (found++ == 0) {
			t->slot = slots[i];
			t->info = tinfo;
			memcpy(t->label, label, sizeof(label));
		}
	}
	if (found == 0) {
		rv = cs_err_set(err, CS_ERR_TOKEN, "no token matching %s in module %s (tokens: %s)",
				t->cfg->token_uri, t->cfg->module, seen[0] ? seen : "none");
		goto out;
	}
	if (found > 1) {
		rv = cs_err_set(err, CS_ERR_TOKEN,
				"%s matches %d tokens (%s); add serial= to the URI to pick one",
				t->cfg->token_uri, found, seen);
		goto out;
	}
	rv = CS_OK;
out:
	free(slots);
	p11_kit_uri_free(uri);
	return rv;
}

static cs_rv login(cs_token *t, CK_SESSION_HANDLE s, cs_err *err)
{
	cs_rv rv;
	CK_RV crv;
	CK_TOKEN_INFO info;
	CK_SESSION_INFO sinfo;
	char *pin = NULL;

	crv = t->p11->C_GetSessionInfo(s, &sinfo);
	if (crv != CKR_OK)
		return cs_p11_err(err, crv, "token '%s'", t->label);
	if (sinfo.state == CKS_RW_USER_FUNCTIONS || sinfo.state == CKS_RO_USER_FUNCTIONS)
		return CS_OK;
	crv = t->p11->C_GetTokenInfo(t->slot, &info);
	if (crv != CKR_OK)
		return cs_p11_err(err, crv, "token '%s'", t->label);
	if (!(info.flags & CKF_LOGIN_REQUIRED))
		return CS_OK;
	if (info.flags & CKF_USER_PIN_LOCKED)
		return cs_err_set(err, CS_ERR_AUTH,
				  "the user PIN of token '%s' is locked; its security officer "
				  "must unlock it",
				  t->label);
	if (info.flags & CKF_USER_PIN_FINAL_TRY)
		return cs_err_set(err, CS_ERR_AUTH,
				  "the user PIN of token '%s' has one try left; refusing to risk "
				  "locking it",
				  t->label);
	if (t->cfg->pin_file == NULL && (info.flags & CKF_PROTECTED_AUTHENTICATION_PATH)) {
		crv = t->p11->C_Login(s, CKU_USER, NULL, 0);
	} else {
		rv = cs_pin_read(t->cfg, &pin, err);
		if (rv != CS_OK)
			return rv;
		crv = t->p11->C_Login(s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
		cs_pin_free(pin);
	}
	switch (crv) {
	case CKR_OK:
	case CKR_USER_ALREADY_LOGGED_IN:
		return CS_OK;
	case CKR_PIN_INCORRECT:
		return cs_err_set(err, CS_ERR_AUTH,
				  "wrong PIN for token '%s' (from %s); not retried, so as not to "
				  "lock the token",
				  t->label, t->cfg->pin_file ? t->cfg->pin_file : "the PIN pad");
	case CKR_PIN_LOCKED:
		return cs_err_set(err, CS_ERR_AUTH, "the user PIN of token '%s' is locked",
				  t->label);
	case CKR_PIN_EXPIRED:
		return cs_err_set(err, CS_ERR_AUTH,
				  "the user PIN of token '%s' has expired; set a new one",
				  t->label);
	default:
		rv = cs_p11_err(err, crv, "logging in to token '%s'", t->label);
		if (crv == CKR_PIN_LEN_RANGE || crv == CKR_PIN_INVALID) {
			if (err != NULL)
				err->rv = CS_ERR_AUTH;
			rv = CS_ERR_AUTH;
		}
		return rv;
	}
}

/* Opens a session in pool slot i and logs it in.  Called with the lock held. */
static cs_rv open_session(cs_token *t, int i, cs_err *err)
{
	cs_rv rv;
	CK_RV crv;
	CK_SESSION_HANDLE h;

	crv = t->p11->C_OpenSession(t->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h);
	if (crv == CKR_TOKEN_WRITE_PROTECTED)
		crv = t->p11->C_OpenSession(t->slot, CKF_SERIAL_SESSION, NULL, NULL, &h);
	if (crv != CKR_OK)
		return cs_p11_err(err, crv, "opening a session on token '%s'", t->label);
	rv = login(t, h, err);
	if (rv != CS_OK) {
		t->p11->C_CloseSession(h);
		return rv;
	}
	t->sessions[i] = h;
	t->busy[i] = false;
	return CS_OK;
}

/* In a forked child: see the comment at the top of this file. */
static cs_rv reinit_after_fork(cs_token *t, cs_err *err)
{
	CK_RV crv;
	cs_rv rv;

	for (int i = 0; i < CS_TOKEN_MAX_SESSIONS; i++) {
		t->sessions[i] = CK_INVALID_HANDLE;
		t->busy[i] = false;
	}
	t->n_cache = 0;
	crv = p11_kit_module_initialize(t->p11);
	if (crv != CKR_OK && crv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
		return cs_p11_err(err, crv, "re-initialising module %s after fork()",
				  t->cfg->module);
	t->pid = getpid();
	rv = find_token(t, err);
	if (rv == CS_OK)
		rv = open_session(t, 0, err);
	if (rv != CS_OK)
		cs_err_prefix(err, "after fork()");
	return rv;
}

static int busy_sessions(const cs_token *t)
{
	int n = 0;

	for (int i = 0; i < CS_TOKEN_MAX_SESSIONS; i++)
		n += t->sessions[i] != CK_INVALID_HANDLE && t->busy[i];
	return n;
}

/* ---- the session pool --------------------------------------------------- */

cs_rv cs_session_get(cs_token *t, cs_session *s, cs_err *err)
{
	cs_rv rv = CS_OK;
	int fd;

	pthread_mutex_lock(&t->lock);
	if (t->pid != getpid()) {
		fd = cs_softhsm_access_lock(t->access_lock, LOCK_EX); /* it logs in again */
		rv = reinit_after_fork(t, err);
		cs_softhsm_access_unlock(fd);
		if (rv != CS_OK)
			goto out;
	}
	for (;;) {
		int empty = -1;

		for (int i = 0; i < CS_TOKEN_MAX_SESSIONS; i++) {
			if (t->sessions[i] == CK_INVALID_HANDLE) {
				if (empty < 0)
					empty = i;
			} else if (!t->busy[i]) {
				t->busy[i] = true;
				s->tok = t;
				s->slot_index = i;
				s->h = t->sessions[i];
				goto out;
			}
		}
		if (empty >= 0) {
			/* With no session busy this may log in (the first, or after
			 * every session broke), which rewrites token.object: alone.
			 * Otherwise the application is logged in already, and a
			 * thread of ours may hold the shared lock: an exclusive one
			 * would wait for it forever. */
			fd = cs_softhsm_access_lock(t->access_lock,
						    busy_sessions(t) == 0 ? LOCK_EX : LOCK_SH);
			rv = open_session(t, empty, err);
			cs_softhsm_access_unlock(fd);
			if (rv != CS_OK)
				goto out;
			continue;
		}
		pthread_cond_wait(&t->freed, &t->lock);
	}
out:
	pthread_mutex_unlock(&t->lock);
	/* outside the mutex: a thread holding the lock returns its session
	 * (which takes the mutex) only after releasing it */
	if (rv == CS_OK)
		t->lock_fd[s->slot_index] =
			cs_softhsm_access_lock(t->access_lock, s->write ? LOCK_EX : LOCK_SH);
	return rv;
}

void cs_session_put(cs_session *s, bool broken)
{
	cs_token *t = s->tok;

	if (t == NULL)
		return;
	/* before the mutex: see cs_session_get */
	if (t->pid == getpid()) {
		cs_softhsm_access_unlock(t->lock_fd[s->slot_index]);
		t->lock_fd[s->slot_index] = -1;
	}
	pthread_mutex_lock(&t->lock);
	/* A session borrowed before a fork() is not ours to return in the child. */
	if (t->sessions[s->slot_index] == s->h && t->busy[s->slot_index]) {
		t->busy[s->slot_index] = false;
		if (broken) {
			t->p11->C_CloseSession(s->h);
			t->sessions[s->slot_index] = CK_INVALID_HANDLE;
			t->n_cache = 0;
		}
	}
	pthread_cond_signal(&t->freed);
	pthread_mutex_unlock(&t->lock);
	s->tok = NULL;
}

/* ---- object handle cache ------------------------------------------------ */

bool cs_cache_get(cs_token *t, const unsigned char *id, size_t id_len, cs_key_info *key)
{
	bool hit = false;

	pthread_mutex_lock(&t->lock);
	for (int i = 0; i < t->n_cache; i++) {
		if (t->cache[i].id_len == id_len && memcmp(t->cache[i].id, id, id_len) == 0) {
			*key = t->cache[i].key;
			hit = true;
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return hit;
}

void cs_cache_put(cs_token *t, const unsigned char *id, size_t id_len, const cs_key_info *key)
{
	cs_handle_cache *c;

	if (id_len == 0 || id_len > CS_KEY_ID_MAX)
		return;
	pthread_mutex_lock(&t->lock);
	if (t->n_cache == CS_HANDLE_CACHE_MAX)
		t->n_cache = 0; /* rare: a process using more than 64 keys; start over */
	c = &t->cache[t->n_cache++];
	memcpy(c->id, id, id_len);
	c->id_len = id_len;
	c->key = *key;
	pthread_mutex_unlock(&t->lock);
}

void cs_cache_clear(cs_token *t)
{
	pthread_mutex_lock(&t->lock);
	t->n_cache = 0;
	pthread_mutex_unlock(&t->lock);
}

/* ---- open and close ----------------------------------------------------- */

static cs_token_config *config_copy(const cs_token_config *c)
{
	cs_token_config *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->store_dir = strdup(c->store_dir ? c->store_dir : ".");
	d->module = c->module ? strdup(c->module) : NULL;
	d->token_uri = c->token_uri ? strdup(c->token_uri) : NULL;
	d->pin_file = c->pin_file ? strdup(c->pin_file) : NULL;
	d->softhsm_conf = c->softhsm_conf ? strdup(c->softhsm_conf) : NULL;
	if (d->store_dir == NULL || d->module == NULL || d->token_uri == NULL ||
	    (c->pin_file && !d->pin_file) || (c->softhsm_conf && !d->softhsm_conf)) {
		cs_token_config_free(d);
		return NULL;
	}
	return d;
}

cs_rv cs_token_open(const cs_token_config *cfg, cs_token **out, cs_err *err)
{
	cs_rv rv;
	cs_token *t;
	bool shconf = false;
	int fd = -1;

	*out = NULL;
	if (cfg == NULL || cfg->module == NULL || cfg->token_uri == NULL)
		return cs_err_set(err, CS_ERR_USAGE, "a token needs a module and a token URI");
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->freed, NULL);
	for (int i = 0; i < CS_TOKEN_MAX_SESSIONS; i++) {
		t->sessions[i] = CK_INVALID_HANDLE;
		t->lock_fd[i] = -1;
	}
	t->pid = getpid();
	t->cfg = config_copy(cfg);
	if (t->cfg == NULL) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		goto fail;
	}
	rv = cs_softhsm_conf_acquire(t->cfg->softhsm_conf, err);
	if (rv != CS_OK)
		goto fail;
	shconf = true;
	/* loading reads every token file, logging in rewrites token.object */
	t->access_lock = cs_softhsm_access_lock_path(t->cfg->softhsm_conf);
	fd = cs_softhsm_access_lock(t->access_lock, LOCK_EX);
	cs_softhsm_guard(t->cfg->softhsm_conf);
	rv = cs_module_load(t->cfg->module, &t->p11, err);
	if (rv != CS_OK)
		goto fail;
	rv = find_token(t, err);
	if (rv == CS_OK)
		rv = open_session(t, 0, err);
	if (rv != CS_OK)
		goto fail;
	cs_softhsm_access_unlock(fd);
	registry_add(t);
	*out = t;
	return CS_OK;
fail:
	cs_module_unload(t->p11);
	cs_softhsm_access_unlock(fd);
	free(t->access_lock);
	if (shconf)
		cs_softhsm_conf_release(t->cfg->softhsm_conf);
	cs_token_config_free(t->cfg);
	pthread_cond_destroy(&t->freed);
	pthread_mutex_destroy(&t->lock);
	free(t);
	return rv;
}

cs_rv cs_token_open_store(const char *store_dir, cs_token **out, cs_err *err)
{
	cs_rv rv;
	cs_token_config *cfg = NULL;

	rv = cs_token_config_load(store_dir, &cfg, err);
	if (rv == CS_OK)
		rv = cs_token_open(cfg, out, err);
	cs_token_config_free(cfg);
	return rv;
}

void cs_token_close(cs_token *t)
{
	if (t == NULL)
		return;
	registry_remove(t);
	/* Sessions close before the module is finalised: SoftHSM2 has crashed in
	 * the other order.  In a child that never used the token, the sessions
	 * are the parent's: leave them. */
	if (t->pid == getpid()) {
		for (int i = 0; i < CS_TOKEN_MAX_SESSIONS; i++)
			if (t->sessions[i] != CK_INVALID_HANDLE)
				t->p11->C_CloseSession(t->sessions[i]);
		cs_module_unload(t->p11);
	} else {
		p11_kit_module_release(t->p11);
	}
	cs_softhsm_conf_release(t->cfg->softhsm_conf);
	cs_token_config_free(t->cfg);
	free(t->access_lock);
	pthread_cond_destroy(&t->freed);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
