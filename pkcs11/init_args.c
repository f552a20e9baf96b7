/*
 * init_args.c - C_Initialize's arguments: the locking the application asks
 * for, and the store directory p11-kit passes in pReserved, read without
 * ever faulting on a pointer that is not one.
 */
#include "p11.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/*
 * The reserved argument.  PKCS#11 2.40 (5.4) says it must be NULL; p11-kit
 * passes its `x-init-reserved` string there (as for p11-kit-trust's
 * `paths=`), to which its tools may append " verbose=yes".  So a non-NULL
 * value is read as that string, but only once it is known to be one: it is
 * copied out with process_vm_readv, which fails instead of faulting on a
 * pointer that is not mapped, a page at a time (a string may end just before
 * an unmapped page).  What is not a NUL-terminated list of blank- or
 * ';'-separated name=value options with store= among them is
 * CKR_ARGUMENTS_BAD, as the standard wants for anything non-NULL.
 */
#define RESERVED_MAX 4096

/* Copies n bytes at src, or says false when any of them is not readable.
 * Where process_vm_readv is not allowed (some container seccomp profiles),
 * write(2) into a pipe checks the same way: EFAULT, not a fault.  The raw
 * system call, not libc's write(): a sanitizer's interceptor would check the
 * unverified pointer itself and report the very fault this avoids. */
static bool read_safely(void *dst, uintptr_t src, size_t n)
{
	struct iovec local = {.iov_base = dst, .iov_len = n};
	struct iovec remote = {.iov_base = (void *)src, .iov_len = n};
	int fds[2];
	bool ok;

	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)n)
		return true;
	if (errno != ENOSYS && errno != EPERM)
		return false;
	if (pipe2(fds, O_CLOEXEC) != 0)
		return false;
	ok = syscall(SYS_write, fds[1], (const void *)src, n) == (long)n &&
	     read(fds[0], dst, n) == (ssize_t)n;
	close(fds[0]);
	close(fds[1]);
	return ok;
}

static CK_RV copy_reserved(const void *p, char *buf, size_t size)
{
	uintptr_t at = (uintptr_t)p;
	size_t got = 0, chunk;
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0)
		page = 4096;
	while (got < size) {
		chunk = (size_t)page - (at + got) % (size_t)page;
		if (chunk > size - got)
			chunk = size - got;
		if (!read_safely(buf + got, at + got, chunk))
			return CKR_ARGUMENTS_BAD;
		if (memchr(buf + got, '\0', chunk) != NULL)
			return CKR_OK;
		got += chunk;
	}
	return CKR_ARGUMENTS_BAD; /* no NUL in RESERVED_MAX bytes: not a string */
}

/* DIR of "store=DIR" in the options, malloc()ed; *dir stays NULL and the
 * answer is CKR_ARGUMENTS_BAD when the string is anything else. */
static CK_RV reserved_store(const char *opts, char **dir)
{
	static const char seps[] = " \t\n;";
	const char *p = opts, *eq;
	size_t len;

	while (*p != '\0') {
		p += strspn(p, seps);
		len = strcspn(p, seps);
		if (len == 0)
			break;
		eq = memchr(p, '=', len);
		if (eq == NULL || eq == p)
			goto bad;
		if (len > 6 && strncmp(p, "store=", 6) == 0 && *dir == NULL) {
			*dir = strndup(p + 6, len - 6);
			if (*dir == NULL)
				return CKR_HOST_MEMORY;
		}
		p += len;
	}
	if (*dir != NULL)
		return CKR_OK;
bad:
	free(*dir);
	*dir = NULL;
	return CKR_ARGUMENTS_BAD;
}

CK_RV p11_init_args(const CK_C_INITIALIZE_ARGS *a, char **dir)
{
	char *buf;
	int given;
	CK_RV rv;

	*dir = NULL;
	if (a == NULL)
		return CKR_OK;
	given = (a->CreateMutex != NULL) + (a->DestroyMutex != NULL) + (a->LockMutex != NULL) +
		(a->UnlockMutex != NULL);
	if (given != 0 && given != 4)
		return CKR_ARGUMENTS_BAD;
	if (given == 4 && !(a->flags & CKF_OS_LOCKING_OK))
		return CKR_CANT_LOCK;
	if (a->pReserved == NULL)
		return CKR_OK;
	buf = malloc(RESERVED_MAX);
	if (buf == NULL)
		return CKR_HOST_MEMORY;
	rv = copy_reserved(a->pReserved, buf, RESERVED_MAX);
	if (rv == CKR_OK)
		rv = reserved_store(buf, dir);
	free(buf);
	return rv;
}
