/*
 * cli_password.h - PFX passwords: from a file, an environment variable, or a
 * no-echo prompt on the terminal.  Never from argv.
 */
#ifndef CERTSTORE_CLI_PASSWORD_H
#define CERTSTORE_CLI_PASSWORD_H

#include <stdbool.h>

#include "certstore.h"

typedef struct cli_password_src {
	const char *file; /* --password-file: its first line */
	const char *env;  /* --password-env: the variable's value */
} cli_password_src;

/*
 * The password named by src; with neither set, asks on /dev/tty without
 * echo ("PROMPT: "), twice when confirm is set.  No source and no terminal
 * is CS_ERR_USAGE.  *out is wiped and freed with cli_password_free.
 */
cs_rv cli_password_get(const cli_password_src *src, const char *prompt, bool confirm, char **out,
		       cs_err *err);
void cli_password_free(char *password);

#endif
