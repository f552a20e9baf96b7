/*
 * cli_password.c - see cli_password.h.
 */
#include "cli_password.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define PASSWORD_MAX 1024

void cli_password_free(char *password)
{
	if (password == NULL)
		return;
	OPENSSL_cleanse(password, strlen(password));
	free(password);
}

/* The first line of buf (len bytes, not terminated) as a new string. */
static cs_rv first_line(const char *buf, size_t len, char **out, cs_err *err)
{
	size_t n = 0;

	while (n < len && buf[n] != '\n' && buf[n] != '\r')
		n++;
	*out = strndup(buf, n);
	return *out ? CS_OK : cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
}

static cs_rv from_fd(int fd, const char *what, char **out, cs_err *err)
{
	char buf[PASSWORD_MAX + 1];
	size_t len = 0;
	cs_rv rv = CS_OK;

	while (len < sizeof(buf) - 1) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rv = cs_err_set(err, CS_ERR_BAD_INPUT, "%s: %s", what, strerror(errno));
		if (n <= 0 || memchr(buf + len, '\n', (size_t)n) != NULL) {
			len += n > 0 ? (size_t)n : 0;
			break;
		}
		len += (size_t)n;
	}
	if (rv == CS_OK)
		rv = first_line(buf, len, out, err);
	OPENSSL_cleanse(buf, sizeof(buf));
	return rv;
}

static cs_rv from_file(const char *path, char **out, cs_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	cs_rv rv;

	if (fd < 0)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "password file %s: %s", path,
				  strerror(errno));
	rv = from_fd(fd, path, out, err);
	close(fd);
	return rv;
}

static cs_rv from_env(const char *var, char **out, cs_err *err)
{
	const char *v = getenv(var);

	if (v == NULL)
		return cs_err_set(err, CS_ERR_USAGE, "environment variable %s is not set", var);
	return first_line(v, strlen(v), out, err);
}

/* One no-echo prompt on the terminal fd. */
static cs_rv ask(int tty, const char *prompt, char **out, cs_err *err)
{
	struct termios old, noecho;
	cs_rv rv;

	if (tcgetattr(tty, &old) != 0)
		return cs_err_set(err, CS_ERR_USAGE, "cannot prompt for a password: %s",
				  strerror(errno));
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	noecho.c_lflag |= ECHONL;
	/* Echo goes off before the prompt is shown: TCSAFLUSH drops whatever
	 * was typed before we asked, and nothing typed after the prompt may be
	 * dropped (a quick answer, a paste, a script answering the prompt). */
	tcsetattr(tty, TCSAFLUSH, &noecho);
	dprintf(tty, "%s: ", prompt);
	rv = from_fd(tty, "terminal", out, err);
	tcsetattr(tty, TCSADRAIN, &old);
	return rv;
}

static cs_rv from_tty(const char *prompt, bool confirm, char **out, cs_err *err)
{
	int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	char *again = NULL, what[256];
	cs_rv rv;

	if (tty < 0 || !isatty(tty)) {
		if (tty >= 0)
			close(tty);
		return cs_err_set(err, CS_ERR_USAGE,
				  "no password: give --password-file FILE or --password-env VAR "
				  "(or run on a terminal to be asked)");
	}
	rv = ask(tty, prompt, out, err);
	snprintf(what, sizeof(what), "%s (again)", prompt);
	if (rv == CS_OK && confirm)
		rv = ask(tty, what, &again, err);
	if (rv == CS_OK && confirm && strcmp(*out, again) != 0)
		rv = cs_err_set(err, CS_ERR_USAGE, "the passwords differ");
	cli_password_free(again);
	close(tty);
	if (rv != CS_OK) {
		cli_password_free(*out);
		*out = NULL;
	}
	return rv;
}

cs_rv cli_password_get(const cli_password_src *src, const char *prompt, bool confirm, char **out,
		       cs_err *err)
{
	*out = NULL;
	if (src->file != NULL && src->env != NULL)
		return cs_err_set(err, CS_ERR_USAGE,
				  "give --password-file or --password-env, not both");
	if (src->file != NULL)
		return from_file(src->file, out, err);
	if (src->env != NULL)
		return from_env(src->env, out, err);
	return from_tty(prompt, confirm, out, err);
}
