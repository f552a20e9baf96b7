/*
 * cmd_requests.c - `certstore requests [--json] [--cancel ID]`: the Request store.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_keys.h"
#include "request.h"
#include "requests.h"
#include "requests_view.h"

typedef struct requests_args {
	long long cancel;
	bool json, help;
} requests_args;

enum { OPT_JSON = 256, OPT_CANCEL };

static const struct option longopts[] = {
	{"json", no_argument, NULL, OPT_JSON},
	{"cancel", required_argument, NULL, OPT_CANCEL},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, requests_args *a,
			cs_err *err)
{
	cs_rv rv = CS_OK;
	char *end;
	int c;

	while ((c = cli_next_option(cmd, argc, argv, &rv, err)) >= 0) {
		if (c == OPT_JSON)
			a->json = true;
		else if (c == OPT_CANCEL) {
			a->cancel = strtoll(optarg, &end, 10);
			if (*end != '\0' || a->cancel <= 0)
				return cli_usage_error(cmd, err, "--cancel takes a request ID");
		}
	}
	if (c == CLI_OPT_STOP) {
		a->help = rv == CS_OK;
		return rv;
	}
	return cli_expect_operands(cmd, argc, argv, 0, 0, err);
}

/* Whether anything else still uses the key (cs_key_users): a same-key
 * renewal's request shares its key with the certificate it renews. */
static bool key_in_use(cs_store *store, const char *uri)
{
	char who[128];
	bool used = false;

	if (cs_key_users(store, uri, 0, 0, &used, who, sizeof(who), NULL) != CS_OK)
		return true; /* when unsure, keep the key */
	return used;
}

/* The row goes first: a key without a request is harmless, a request without its key is not. */
static cs_rv cancel_request(cs_store *store, long long id, cs_err *err)
{
	cs_pending *p = NULL;
	cli_keys keys = {0};
	bool shared = false;
	cs_rv rv = cs_pending_get(store, (int64_t)id, &p, err);

	if (rv == CS_OK)
		rv = cli_keys_open(store, &keys, err);
	if (rv == CS_OK)
		rv = cs_pending_remove(store, p->id, "cancelled", err);
	if (rv == CS_OK && p->key_uri != NULL)
		shared = key_in_use(store, p->key_uri);
	if (rv == CS_OK && p->key_uri != NULL && !shared)
		rv = cs_key_delete(keys.token, p->key_uri, err);
	if (rv == CS_ERR_NOT_FOUND && p != NULL)
		rv = CS_OK; /* the key was already gone */
	/* A same-key renewal's key is the renewed certificate's: say it stays. */
	if (rv == CS_OK && shared)
		printf("cancelled request %lld (%s); its key stays in the token: the certificate "
		       "it renews uses it\n",
		       id, p->subject);
	else if (rv == CS_OK)
		printf("cancelled request %lld (%s) and removed its key\n", id, p->subject);
	cli_keys_close(&keys);
	cs_pending_free(p);
	return rv;
}

static cs_rv requests_act(cs_store *store, void *arg, cs_err *err)
{
	const requests_args *a = arg;

	return a->cancel > 0 ? cancel_request(store, a->cancel, err)
			     : requests_view_print(store, a->json, err);
}

static cs_rv run_requests(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
			  cs_err *err)
{
	requests_args a = {0};
	cli_store_job run = {.act = requests_act, .arg = &a};
	cs_rv rv;

	rv = parse_args(cmd, argc, argv, &a, err);
	if (rv != CS_OK || a.help)
		return rv;
	return cli_run_with_store(ctx, &run, err);
}

const cli_command cmd_requests = {
	.name = "requests",
	.summary = "list pending requests, or cancel one",
	.usage = "Usage: certstore requests [--json]\n"
		 "       certstore requests --cancel ID\n"
		 "\n"
		 "Lists the Request store: requests waiting for their certificates (ID, key,\n"
		 "CA profile or (file) for offline CAs, the CA's own request ID, age, subject).\n"
		 "--cancel removes one and deletes its key from the token, unless a certificate\n"
		 "uses that key (a renewal with the same key): then the key stays.\n",
	.shortopts = "h",
	.longopts = longopts,
	.run = run_requests,
};
