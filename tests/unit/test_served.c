/*
 * test_served.c - the records of which process serves which certificate:
 * once per process and certificate, dead processes and reused pids left out,
 * and a process still on a previous certificate flagged stale.
 */
#include "testutil.h"
#include "served.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHA_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define SHA_B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

static void record(cs_store *s, pid_t pid, const char *sha1, const char *usage, bool *inserted)
{
	cs_served rec = {0};

	assert_int_equal(cs_served_identify(pid, &rec, NULL), CS_OK);
	snprintf(rec.sha1, sizeof(rec.sha1), "%s", sha1);
	snprintf(rec.via, sizeof(rec.via), "provider");
	rec.usage = usage ? strdup(usage) : NULL;
	assert_int_equal(cs_served_record(s, &rec, inserted, NULL), CS_OK);
	cs_served_clear(&rec);
}

static void test_served_records_a_process_and_certificate_once(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	cs_served_list live = {0};
	bool inserted;

	(void)state;
	record(s, getpid(), SHA_A, "Default", &inserted);
	assert_true(inserted);
	record(s, getpid(), SHA_A, "Default", &inserted);
	assert_false(inserted);
	record(s, getpid(), SHA_B, "Default", &inserted);
	assert_true(inserted);
	assert_int_equal(cs_served_list_live(s, &live, NULL), CS_OK);
	assert_int_equal(live.n, 2);
	assert_int_equal(live.items[0].pid, getpid());
	assert_string_equal(live.items[0].sha1, SHA_A);
	assert_true(live.items[0].exe[0] == '/');
	cs_served_list_clear(&live);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_served_leaves_out_dead_processes_and_reused_pids(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	cs_served_list live = {0};
	cs_served me = {0};
	bool inserted;
	size_t pruned;
	pid_t child = fork();

	(void)state;
	if (child == 0) {
		pause();
		_exit(0);
	}
	record(s, child, SHA_A, "Default", &inserted);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	/* our own pid, but a start time of another process: a reused pid */
	assert_int_equal(cs_served_identify(getpid(), &me, NULL), CS_OK);
	assert_false(cs_served_alive(getpid(), me.start + 1));
	assert_true(cs_served_alive(getpid(), me.start));
	assert_int_equal(cs_served_list_live(s, &live, NULL), CS_OK);
	assert_int_equal(live.n, 0);
	record(s, getpid(), SHA_B, NULL, &inserted);
	assert_int_equal(cs_served_prune(s, &pruned, NULL), CS_OK);
	assert_int_equal(pruned, 1); /* the dead child's row, not ours */
	assert_int_equal(cs_served_list_live(s, &live, NULL), CS_OK);
	assert_int_equal(live.n, 1);
	cs_served_list_clear(&live);
	cs_served_clear(&me);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_served_flags_a_process_whose_last_certificate_is_not_current(void **state)
{
	cs_served recs[3] = {
		{.pid = 10, .start = 1, .sha1 = SHA_A, .usage = "Default"},
		{.pid = 11, .start = 1, .sha1 = SHA_A, .usage = "Default"},
		{.pid = 11, .start = 1, .sha1 = SHA_B, .usage = ""}, /* reloaded */
	};
	cs_served_list live = {.items = recs, .n = 3};
	cs_usage u = {.name = "Default", .sha1 = SHA_B, .previous_sha1 = SHA_A};
	cs_served_by_list by = {0};

	(void)state;
	assert_int_equal(cs_served_for_usage(&live, &u, &by, NULL), CS_OK);
	assert_int_equal(by.n, 2);
	assert_int_equal(by.items[0].rec->pid, 10);
	assert_true(by.items[0].stale);
	assert_int_equal(by.items[1].rec->pid, 11);
	assert_false(by.items[1].stale);
	cs_served_by_list_clear(&by);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_served_records_a_process_and_certificate_once),
		cmocka_unit_test(test_served_leaves_out_dead_processes_and_reused_pids),
		cmocka_unit_test(test_served_flags_a_process_whose_last_certificate_is_not_current),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
