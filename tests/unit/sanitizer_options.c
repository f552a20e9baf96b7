/*
 * sanitizer_options.c - for unit tests that load SoftHSM2 into their own
 * process.  SoftHSM2 2.6.1 leaks the OpenSSL ENGINE it looks up in every
 * C_Initialize; LeakSanitizer can only tell that leak from ours with full
 * stack unwinding (libcrypto has no frame pointers), so these tests unwind
 * slowly and suppress leaks whose stack passes through libsofthsm2.  The
 * functions are ordinary symbols when the build has no sanitizer.
 */
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);

const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

const char *__lsan_default_suppressions(void)
{
	return "leak:libsofthsm2.so\n";
}
