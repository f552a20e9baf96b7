/*
 * http_auth.c - the CA profile's password: from password-file or a no-echo
 * prompt on the terminal.  Never from argv, never in a message.
 */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define SECRET_MAX 1024

void http_secret_free(char *secret)
{
	if (secret == NULL)
		return;
	OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
}

static char *first_line(char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n && buf[i] != '\n' && buf[i] != '\r'; i++)
		;
	buf[i] = '\0';
	return strdup(buf);
}

cs_rv http_read_secret_file(const char *store_dir, const char *path, const char *what, char **out,
			    cs_err *err)
{
	char buf[SECRET_MAX];
	struct stat st, dst;
	ssize_t n;
	cs_rv rv = CS_OK;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	/* A link, a FIFO or someone else's file is a policy refusal (exit 11),
	 * as for a group-readable one: the rules of a secret file are broken,
	 * whatever the password inside; a file that cannot be read at all is a
	 * failure to authenticate (exit 10). */
	if (fd < 0 && errno == ELOOP)
		return cs_err_set(err, CS_ERR_REFUSED,
				  "%s %s is a symbolic link; it must be a "
				  "regular file",
				  what, path);
	if (fd < 0)
		return cs_err_set(err, CS_ERR_AUTH, "%s %s: %s", what, path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		rv = cs_err_set(err, CS_ERR_REFUSED, "%s %s is not a regular file", what, path);
	else if ((st.st_mode & 077) != 0)
		rv = cs_err_set(err, CS_ERR_REFUSED,
				"%s %s is accessible by group or others (mode %04o); "
				"it must be 0600 or 0400",
				what, path, (unsigned)(st.st_mode & 07777));
	else if (store_dir != NULL && stat(store_dir, &dst) != 0)
		rv = cs_err_set(err, CS_ERR_STORE, "store directory %s: %s", store_dir,
				strerror(errno));
	else if (store_dir != NULL && st.st_uid != dst.st_uid)
		rv = cs_err_set(err, CS_ERR_REFUSED,
				"%s %s is owned by uid %u, not by the store's owner (uid %u)", what,
				path, (unsigned)st.st_uid, (unsigned)dst.st_uid);
	if (rv == CS_OK) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n <= 0)
			rv = cs_err_set(err, CS_ERR_AUTH, "%s %s is empty", what, path);
		else if ((*out = first_line(buf, (size_t)n)) == NULL)
			rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		OPENSSL_cleanse(buf, sizeof(buf));
	}
	close(fd);
	return rv;
}

/* The prompt is the program's (for the tool: its one no-echo prompt, cli_password.c). */
static cs_rv prompt_secret(const enroll_ctx *ctx, char **out, cs_err *err)
{
	const enroll_profile *p = ctx->profile;
	char prompt[200];
	cs_rv rv = CS_ERR_USAGE;

	snprintf(prompt, sizeof(prompt), "Password for %s at CA %s", p->user ? p->user : "",
		 p->name);
	if (ctx->keys != NULL && ctx->keys->ask_secret != NULL)
		rv = ctx->keys->ask_secret(ctx->keys->arg, prompt, out, err);
	if (rv == CS_ERR_USAGE)
		rv = cs_err_set(err, CS_ERR_AUTH,
				"CA profile %s needs a password and there is no terminal to ask "
				"on: set password-file in [ca.%s]",
				p->name, p->name);
	return rv;
}

cs_rv http_read_password(const enroll_ctx *ctx, char **out, cs_err *err)
{
	const enroll_profile *p = ctx->profile;

	*out = NULL;
	if (p->password_file != NULL)
		return http_read_secret_file(p->store_dir, p->password_file, "password-file", out,
					     err);
	return prompt_secret(ctx, out, err);
}
