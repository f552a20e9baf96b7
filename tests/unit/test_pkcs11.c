/*
 * test_pkcs11.c - certstore-pkcs11.so through its function list, as any
 * PKCS#11 consumer calls it: loaded with dlopen, C_GetFunctionList first.
 * $CERTSTORE_PKCS11 names the module (make check sets it).
 */
#include "testutil.h"
#include "p11util.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/pkcs11x.h>

#ifndef CKO_X_TRUST_ASSERTION
#define CKO_X_TRUST_ASSERTION (CKO_X_VENDOR + 100) /* retired from p11-kit 0.24 headers */
#endif

#define SLOT_MY 1
#define SLOT_ROOT 2
#define SLOT_DISALLOWED 4

static CK_FUNCTION_LIST *f;
static tu_cert root, other, leaf;
static tu_p11 p11;

static void import_to(X509 *x, cs_store_id where)
{
	cs_store *s = NULL;
	cs_cert_list l = {0};
	cs_import_opts o = {.store = where};
	cs_import_result res;

	assert_int_equal(cs_store_open(p11.store_dir, 0, &s, NULL), CS_OK);
	assert_int_equal(cs_cert_list_push(&l, tu_cs_cert(x), NULL), CS_OK);
	assert_int_equal(cs_import_certs(s, &l, &o, &res, NULL), CS_OK);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&l);
	cs_store_close(s);
}

static int group_setup(void **state)
{
	cs_store *s = NULL;

	(void)state;
	tu_p11_open(&p11);
	f = p11.f;
	root = tu_make("P11 Root", NULL, 1, -1, 365);
	other = tu_make("P11 Other Root", NULL, 1, -1, 365);
	leaf = tu_make("p11.example", &root, 0, -1, 30);
	assert_int_equal(cs_store_open(p11.store_dir, CS_OPEN_CREATE, &s, NULL), CS_OK);
	cs_store_close(s);
	import_to(root.x509, CS_STORE_ROOT);
	import_to(leaf.x509, CS_STORE_MY);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	tu_free(&leaf);
	tu_free(&other);
	tu_free(&root);
	tu_p11_close(&p11);
	return 0;
}

static CK_SESSION_HANDLE open_session(CK_SLOT_ID slot, CK_FLAGS extra)
{
	CK_SESSION_HANDLE h = 0;

	assert_int_equal(f->C_OpenSession(slot, CKF_SERIAL_SESSION | extra, NULL, NULL, &h),
			 CKR_OK);
	return h;
}

/* Every handle matching tmpl in the session's token. */
static CK_ULONG find(CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out,
		     CK_ULONG max)
{
	CK_ULONG got = 0;

	assert_int_equal(f->C_FindObjectsInit(s, tmpl, n), CKR_OK);
	assert_int_equal(f->C_FindObjects(s, out, max, &got), CKR_OK);
	assert_int_equal(f->C_FindObjectsFinal(s), CKR_OK);
	return got;
}

static CK_OBJECT_HANDLE find_cert_by_subject(CK_SESSION_HANDLE s, X509 *x, CK_ULONG *count)
{
	CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
	const unsigned char *der;
	size_t len;
	CK_OBJECT_HANDLE h[4] = {0};
	CK_ATTRIBUTE tmpl[2] = {{CKA_CLASS, &klass, sizeof(klass)}, {CKA_SUBJECT, NULL, 0}};

	assert_true(X509_NAME_get0_der(X509_get_subject_name(x), &der, &len));
	tmpl[1].pValue = (void *)der;
	tmpl[1].ulValueLen = len;
	*count = find(s, tmpl, 2, h, 4);
	return h[0];
}

static void test_calls_before_initialize_are_refused(void **state)
{
	CK_ULONG n = 0;
	CK_INFO info;
	CK_SESSION_HANDLE h;

	(void)state;
	assert_int_equal(f->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(f->C_GetSlotList(CK_FALSE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(f->C_OpenSession(SLOT_ROOT, CKF_SERIAL_SESSION, NULL, NULL, &h),
			 CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(f->C_Sign(1, NULL, 0, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static void test_initialize_twice_and_finalize_cleanly(void **state)
{
	(void)state;
	assert_int_equal(f->C_Initialize(NULL), CKR_OK);
	assert_int_equal(f->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
	assert_int_equal(f->C_Finalize((void *)1), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_Finalize(NULL), CKR_OK);
	assert_int_equal(f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static void test_initialize_refuses_foreign_mutexes_without_os_locking(void **state)
{
	CK_C_INITIALIZE_ARGS args = {.CreateMutex = (CK_CREATEMUTEX)1,
				     .DestroyMutex = (CK_DESTROYMUTEX)1,
				     .LockMutex = (CK_LOCKMUTEX)1,
				     .UnlockMutex = (CK_UNLOCKMUTEX)1};

	(void)state;
	assert_int_equal(f->C_Initialize(&args), CKR_CANT_LOCK);
	args.UnlockMutex = NULL;
	assert_int_equal(f->C_Initialize(&args), CKR_ARGUMENTS_BAD);
}

static void test_four_slots_named_for_the_stores(void **state)
{
	static const char *const labels[] = {"Personal", "Trusted Root", "Intermediate CA",
					     "Untrusted"};
	CK_SLOT_ID slots[8];
	CK_ULONG n = 0, i;
	CK_TOKEN_INFO ti;

	(void)state;
	assert_int_equal(f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	assert_int_equal(n, 4);
	n = 2;
	assert_int_equal(f->C_GetSlotList(CK_TRUE, slots, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 4);
	assert_int_equal(f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	for (i = 0; i < n; i++) {
		assert_int_equal(f->C_GetTokenInfo(slots[i], &ti), CKR_OK);
		assert_memory_equal(ti.label, labels[i], strlen(labels[i]));
		assert_int_equal(ti.label[strlen(labels[i])], ' ');
		assert_int_equal((ti.flags & CKF_WRITE_PROTECTED) != 0, slots[i] != SLOT_ROOT);
	}
	assert_int_equal(f->C_GetTokenInfo(99, &ti), CKR_SLOT_ID_INVALID);
}

static void test_read_write_session_only_on_trusted_root(void **state)
{
	CK_SESSION_HANDLE h;

	(void)state;
	assert_int_equal(
		f->C_OpenSession(SLOT_MY, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h),
		CKR_TOKEN_WRITE_PROTECTED);
	h = open_session(SLOT_ROOT, CKF_RW_SESSION);
	assert_int_equal(f->C_CloseSession(h), CKR_OK);
	assert_int_equal(f->C_CloseSession(h), CKR_SESSION_HANDLE_INVALID);
}

static void test_find_root_by_subject_with_its_attributes(void **state)
{
	CK_SESSION_HANDLE s = open_session(SLOT_ROOT, 0);
	CK_ULONG n, cat = 0;
	CK_BBOOL trusted = CK_FALSE, distrusted = CK_TRUE;
	unsigned char id[20], value[4096], want_id[20];
	unsigned int want_len;
	CK_ATTRIBUTE a[5] = {
		{CKA_TRUSTED, &trusted, sizeof(trusted)},
		{CKA_X_DISTRUSTED, &distrusted, sizeof(distrusted)},
		{CKA_CERTIFICATE_CATEGORY, &cat, sizeof(cat)},
		{CKA_ID, id, sizeof(id)},
		{CKA_VALUE, value, sizeof(value)},
	};
	CK_OBJECT_HANDLE h = find_cert_by_subject(s, root.x509, &n);
	size_t der_len;
	unsigned char *der = tu_der(root.x509, &der_len);

	(void)state;
	assert_int_equal(n, 1);
	assert_int_equal(f->C_GetAttributeValue(s, h, a, 5), CKR_OK);
	assert_int_equal(trusted, CK_TRUE);
	assert_int_equal(distrusted, CK_FALSE);
	assert_int_equal(cat, 2);
	assert_true(X509_pubkey_digest(root.x509, EVP_sha1(), want_id, &want_len));
	assert_memory_equal(id, want_id, 20);
	assert_int_equal(a[4].ulValueLen, der_len);
	assert_memory_equal(value, der, der_len);
	free(der);
	/* the leaf is in Personal, not here */
	find_cert_by_subject(s, leaf.x509, &n);
	assert_int_equal(n, 0);
	f->C_CloseSession(s);
}

static void test_root_has_nss_trust_and_assertions(void **state)
{
	CK_SESSION_HANDLE s = open_session(SLOT_ROOT, 0);
	CK_OBJECT_CLASS nss = CKO_NSS_TRUST, assertion = CKO_X_TRUST_ASSERTION;
	CK_ATTRIBUTE by_class = {CKA_CLASS, &nss, sizeof(nss)};
	CK_OBJECT_HANDLE h[16];
	CK_ULONG level = 0;
	CK_ATTRIBUTE server = {CKA_TRUST_SERVER_AUTH, &level, sizeof(level)};

	(void)state;
	assert_int_equal(find(s, &by_class, 1, h, 16), 1);
	assert_int_equal(f->C_GetAttributeValue(s, h[0], &server, 1), CKR_OK);
	assert_int_equal(level, CKT_NSS_TRUSTED_DELEGATOR);
	by_class.pValue = &assertion;
	assert_int_equal(find(s, &by_class, 1, h, 16), 8);
	f->C_CloseSession(s);
}

static void test_short_buffer_gives_length_and_unknown_attribute_is_invalid(void **state)
{
	CK_SESSION_HANDLE s = open_session(SLOT_ROOT, 0);
	unsigned char small[4], label[64];
	CK_ATTRIBUTE a[3] = {
		{CKA_VALUE, small, sizeof(small)},
		{CKA_MODULUS, label, sizeof(label)},
		{CKA_LABEL, label, sizeof(label)},
	};
	CK_ULONG n;
	CK_OBJECT_HANDLE h = find_cert_by_subject(s, root.x509, &n);
	size_t der_len;
	unsigned char *der = tu_der(root.x509, &der_len);
	CK_RV rv;

	(void)state;
	rv = f->C_GetAttributeValue(s, h, a, 3);
	assert_true(rv == CKR_BUFFER_TOO_SMALL || rv == CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(a[0].ulValueLen, der_len);
	assert_int_equal(a[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(a[2].ulValueLen, strlen("P11 Root"));
	assert_memory_equal(label, "P11 Root", a[2].ulValueLen);
	a[1].type = CKA_VALUE;
	a[1].pValue = NULL;
	assert_int_equal(f->C_GetAttributeValue(s, h, &a[1], 1), CKR_OK);
	assert_int_equal(a[1].ulValueLen, der_len);
	free(der);
	f->C_CloseSession(s);
}

static void test_unknown_attribute_in_template_matches_nothing(void **state)
{
	CK_SESSION_HANDLE s = open_session(SLOT_ROOT, 0);
	CK_BYTE mod[1] = {1};
	CK_ATTRIBUTE t = {CKA_MODULUS, mod, sizeof(mod)};
	CK_OBJECT_HANDLE h[4];

	(void)state;
	assert_int_equal(find(s, &t, 1, h, 4), 0);
	f->C_CloseSession(s);
}

static void test_invalid_handles_are_refused(void **state)
{
	CK_SESSION_HANDLE s = open_session(SLOT_MY, 0);
	CK_ULONG n;
	CK_OBJECT_HANDLE root_in_root;
	CK_ATTRIBUTE a = {CKA_LABEL, NULL, 0};
	CK_SESSION_HANDLE r = open_session(SLOT_ROOT, 0);

	(void)state;
	root_in_root = find_cert_by_subject(r, root.x509, &n);
	assert_int_equal(f->C_GetAttributeValue(s, 0, &a, 1), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(f->C_GetAttributeValue(s, 0xdead0, &a, 1), CKR_OBJECT_HANDLE_INVALID);
	/* a Root object through a Personal session */
	assert_int_equal(f->C_GetAttributeValue(s, root_in_root, &a, 1), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(f->C_GetAttributeValue(12345, root_in_root, &a, 1),
			 CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(f->C_FindObjects(s, &n, 1, &n), CKR_OPERATION_NOT_INITIALIZED);
	f->C_CloseSession(s);
	f->C_CloseSession(r);
}

static void test_create_and_destroy_in_trusted_root(void **state)
{
	CK_SESSION_HANDLE ro = open_session(SLOT_ROOT, 0),
			  rw = open_session(SLOT_ROOT, CKF_RW_SESSION);
	CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
	CK_BBOOL yes = CK_TRUE;
	size_t der_len;
	unsigned char *der = tu_der(other.x509, &der_len);
	CK_ATTRIBUTE t[4] = {{CKA_CLASS, &klass, sizeof(klass)},
			     {CKA_TOKEN, &yes, sizeof(yes)},
			     {CKA_VALUE, der, der_len},
			     {CKA_LABEL, "Added via PKCS#11", 17}};
	CK_OBJECT_HANDLE h = 0;
	CK_ULONG n;

	(void)state;
	assert_int_equal(f->C_CreateObject(ro, t, 4, &h), CKR_SESSION_READ_ONLY);
	assert_int_equal(f->C_CreateObject(rw, t, 4, &h), CKR_OK);
	assert_int_equal(find_cert_by_subject(ro, other.x509, &n), h);
	assert_int_equal(n, 1);
	assert_int_equal(f->C_DestroyObject(rw, h), CKR_OK);
	find_cert_by_subject(ro, other.x509, &n);
	assert_int_equal(n, 0);
	t[2].ulValueLen = 10; /* not a certificate */
	assert_int_equal(f->C_CreateObject(rw, t, 4, &h), CKR_ATTRIBUTE_VALUE_INVALID);
	free(der);
	f->C_CloseSession(ro);
	f->C_CloseSession(rw);
}

static void test_change_by_another_connection_is_seen_without_restart(void **state)
{
	CK_SESSION_HANDLE s = open_session(SLOT_DISALLOWED, 0);
	CK_BBOOL distrusted = CK_FALSE;
	CK_ATTRIBUTE a = {CKA_X_DISTRUSTED, &distrusted, sizeof(distrusted)};
	CK_ULONG n;
	CK_OBJECT_HANDLE h;

	(void)state;
	find_cert_by_subject(s, other.x509, &n);
	assert_int_equal(n, 0);
	import_to(other.x509, CS_STORE_DISALLOWED);
	h = find_cert_by_subject(s, other.x509, &n);
	assert_int_equal(n, 1);
	assert_int_equal(f->C_GetAttributeValue(s, h, &a, 1), CKR_OK);
	assert_int_equal(distrusted, CK_TRUE);
	f->C_CloseSession(s);
}

static void test_child_after_fork_reads_the_store_again(void **state)
{
	CK_SESSION_HANDLE s = open_session(SLOT_ROOT, 0);
	CK_ULONG n;
	int status = -1;
	pid_t pid;

	(void)state;
	find_cert_by_subject(s, root.x509, &n);
	assert_int_equal(n, 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		CK_ULONG m = 0;
		CK_OBJECT_CLASS k = CKO_CERTIFICATE;
		CK_ATTRIBUTE t = {CKA_CLASS, &k, sizeof(k)};
		CK_OBJECT_HANDLE h[4];

		/* the parent's session goes on working, on the child's own connection */
		if (f->C_FindObjectsInit(s, &t, 1) == CKR_OK &&
		    f->C_FindObjects(s, h, 4, &m) == CKR_OK)
			f->C_FindObjectsFinal(s);
		_exit(m == 1 && f->C_Finalize(NULL) == CKR_OK ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	f->C_CloseSession(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls_before_initialize_are_refused),
		cmocka_unit_test(test_initialize_twice_and_finalize_cleanly),
		cmocka_unit_test(test_initialize_refuses_foreign_mutexes_without_os_locking),
		cmocka_unit_test_setup_teardown(test_four_slots_named_for_the_stores,
						tu_p11_initialize, tu_p11_finalize),
		cmocka_unit_test_setup_teardown(test_read_write_session_only_on_trusted_root,
						tu_p11_initialize, tu_p11_finalize),
		cmocka_unit_test_setup_teardown(test_find_root_by_subject_with_its_attributes,
						tu_p11_initialize, tu_p11_finalize),
		cmocka_unit_test_setup_teardown(test_root_has_nss_trust_and_assertions,
						tu_p11_initialize, tu_p11_finalize),
		cmocka_unit_test_setup_teardown(
			test_short_buffer_gives_length_and_unknown_attribute_is_invalid,
			tu_p11_initialize, tu_p11_finalize),
		cmocka_unit_test_setup_teardown(test_unknown_attribute_in_template_matches_nothing,
						tu_p11_initialize, tu_p11_finalize),
		cmocka_unit_test_setup_teardown(test_invalid_handles_are_refused, tu_p11_initialize,
						tu_p11_finalize),
		cmocka_unit_test_setup_teardown(test_create_and_destroy_in_trusted_root,
						tu_p11_initialize, tu_p11_finalize),
		cmocka_unit_test_setup_teardown(
			test_change_by_another_connection_is_seen_without_restart,
			tu_p11_initialize, tu_p11_finalize),
		cmocka_unit_test_setup_teardown(test_child_after_fork_reads_the_store_again,
						tu_p11_initialize, tu_p11_finalize),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
