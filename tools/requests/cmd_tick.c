/*
 * cmd_tick.c - `certstore tick`: the periodic job (certstore-tick.timer):
 * applies staged assignments whose time has come and runs their hooks.
 */
#include "cli.h"
#include "config_file.h"
#include "request_flow.h"
#include "usage.h"

#include <stdlib.h>
#include <strings.h>

#include <string.h>

static const struct option longopts[] = {
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* The staged entries that became current between `before` and `after`. */
static void print_applied(const cs_usage_list *before, const cs_usage_list *after)
{
	for (size_t i = 0; i < before->n; i++) {
		const cs_usage *b = &before->items[i];

		if (b->staged_sha1[0] == '\0')
			continue;
		for (size_t j = 0; j < after->n; j++) {
			const cs_usage *a = &after->items[j];

			if (strcmp(a->name, b->name) == 0 && strcmp(a->sha1, b->staged_sha1) == 0 &&
			    a->staged_sha1[0] == '\0')
				printf("applied staged %s: %s\n", a->name, a->sha1);
		}
	}
}

static cs_rv apply_staged(cs_store *store, cs_err *err)
{
	cs_usage_list before = {0}, after = {0};
	size_t applied = 0;
	cs_rv rv;

	rv = cs_usage_list_get(store, &before, err);
	if (rv != CS_OK)
		return rv;
	rv = cs_usage_apply_due(store, &applied, err);
	if (applied > 0 && cs_usage_list_get(store, &after, NULL) == CS_OK)
		print_applied(&before, &after);
	cs_usage_list_clear(&before);
	cs_usage_list_clear(&after);
	return rv;
}

/* [renew] renew-before (days, default 30) and new-key (default no) of certstore.conf. */
static void renew_policy(cs_store *store, long *days, bool *new_key)
{
	CONF *conf = NULL;
	const char *v;

	*days = 30;
	*new_key = false;
	if (cs_config_open(cs_store_dir(store), true, &conf, NULL) != CS_OK)
		return;
	if ((v = cs_config_get(conf, "renew", "renew-before")) != NULL && atol(v) > 0)
		*days = atol(v);
	if ((v = cs_config_get(conf, "renew", "new-key")) != NULL)
		*new_key = strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0;
	NCONF_free(conf);
}

/* A renewal already asked for and not answered yet: do not ask twice. */
static bool renewal_pending(const cs_pending_list *pending, const char *sha1)
{
	for (size_t i = 0; i < pending->n; i++)
		if (pending->items[i]->renews != NULL &&
		    strcmp(pending->items[i]->renews, sha1) == 0)
			return true;
	return false;
}

static bool due(const cs_cert *c, long days, const cs_pending_list *pending)
{
	return c->ca_profile != NULL && !cs_cert_is_ca(c) &&
	       c->not_after - (int64_t)cs_now() <= (int64_t)days * 86400 &&
	       !renewal_pending(pending, c->sha1);
}

/* Certificates issued through a CA profile and close to expiry are renewed. */
static cs_rv renew_due(cs_store *store, cs_err *err)
{
	cs_find_opts my = {.store = CS_STORE_MY};
	cs_cert_list certs = {0};
	cs_pending_list pending = {0};
	cli_keys keys = {0};
	cs_rv rv, first = CS_OK;
	long days;
	bool new_key;

	renew_policy(store, &days, &new_key);
	rv = cs_store_list(store, &my, &certs, err);
	if (rv == CS_OK)
		rv = cs_pending_list_get(store, &pending, err);
	for (size_t i = 0; rv == CS_OK && i < certs.n; i++) {
		cs_err one = {0};

		if (!due(certs.items[i], days, &pending))
			continue;
		if (keys.token == NULL && (rv = cli_keys_open(store, &keys, err)) != CS_OK)
			break;
		printf("renewing %s (%s), expires in less than %ld days\n", certs.items[i]->subject,
		       certs.items[i]->sha1, days);
		if (flow_renew(store, &keys, certs.items[i], NULL, new_key, NULL, false, &one) !=
			    CS_OK &&
		    first == CS_OK) {
			first = one.rv;
			if (err != NULL)
				*err = one;
		}
	}
	cli_keys_close(&keys);
	cs_pending_list_clear(&pending);
	cs_cert_list_clear(&certs);
	return rv != CS_OK ? rv : first;
}

static cs_rv tick(cs_store *store, void *arg, cs_err *err)
{
	/* A staged-roll failure must not stop renewals: keep the first error. */
	cs_err renew_err = {0};
	cs_rv staged = apply_staged(store, err);
	cs_rv renewed = renew_due(store, &renew_err);

	(void)arg;
	if (staged == CS_OK && renewed != CS_OK && err != NULL)
		*err = renew_err;
	return staged != CS_OK ? staged : renewed;
}

static cs_rv run_tick(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
		      cs_err *err)
{
	cli_store_job job = {.act = tick};
	cs_rv rv = CS_OK;
	int c;

	while ((c = cli_next_option(cmd, argc, argv, &rv, err)) >= 0)
		;
	if (c == CLI_OPT_STOP)
		return rv;
	rv = cli_expect_operands(cmd, argc, argv, 0, 0, err);
	if (rv == CS_OK)
		rv = cli_run_with_store(ctx, &job, err);
	return rv;
}

const cli_command cmd_tick = {
	.name = "tick",
	.summary = "apply staged assignments whose time has come (run it from a timer)",
	.usage = "Usage: certstore tick\n"
		 "\n"
		 "Applies every staged assignment (assign --at) whose time has come:\n"
		 "publishes it and runs the usage's hooks, printing each one applied.\n"
		 "Then renews every certificate in My that a CA profile issued and that\n"
		 "expires within [renew] renew-before days (default 30; [renew] new-key =\n"
		 "yes makes a new key): its usages move to the renewal and hooks run.\n"
		 "Prints nothing when nothing is due.  Meant for certstore-tick.timer.\n"
		 "\n"
		 "Options:\n"
		 "  -h, --help  this help\n",
	.shortopts = "h",
	.longopts = longopts,
	.run = run_tick,
};
