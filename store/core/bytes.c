/*
 * bytes.c - byte buffers and the two file operations everything uses.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ctype.h>

#include <openssl/crypto.h>

#define CS_MAX_INPUT (64u * 1024u * 1024u)

void cs_bytes_clear(cs_bytes *b)
{
	if (b == NULL)
		return;
	if (b->data != NULL) {
		OPENSSL_cleanse(b->data, b->len);
		free(b->data);
	}
	b->data = NULL;
	b->len = 0;
}

static cs_rv read_all(int fd, const char *path, size_t size, cs_bytes *out, cs_err *err)
{
	size_t got = 0;
	ssize_t n;

	out->data = malloc(size ? size : 1);
	if (out->data == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory reading %s", path);
	while (got < size) {
		n = read(fd, out->data + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cs_bytes_clear(out);
			return cs_err_set(err, CS_ERR_BAD_INPUT, "%s: cannot read: %s", path,
					  strerror(errno));
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	out->len = got;
	return CS_OK;
}

cs_rv cs_read_file(const char *path, cs_bytes *out, cs_err *err)
{
	struct stat st;
	cs_rv rv;
	int fd;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "%s: cannot open: %s", path,
				  strerror(errno));
	if (fstat(fd, &st) != 0) {
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "%s: is a directory, not a certificate file",
				path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > CS_MAX_INPUT) {
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "%s: larger than 64 MiB", path);
		goto out;
	}
	if (st.st_size == 0) {
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "%s: file is empty", path);
		goto out;
	}
	rv = read_all(fd, path, (size_t)st.st_size, out, err);
out:
	close(fd);
	return rv;
}

static cs_rv fsync_parent(const char *path, cs_err *err)
{
	char *dir = strdup(path);
	char *slash;
	int fd;

	if (dir == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return CS_OK; /* best effort: the rename already happened */
	(void)fsync(fd);
	close(fd);
	return CS_OK;
}

cs_rv cs_write_file_atomic(const char *path, const void *data, size_t len, int mode, cs_err *err)
{
	char *tmp = NULL;
	size_t done = 0;
	ssize_t n;
	cs_rv rv = CS_OK;
	int fd = -1;

	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		rv = cs_err_set(err, CS_ERR_STORE, "%s: cannot create: %s", tmp, strerror(errno));
		goto out;
	}
	(void)fchmod(fd, mode);
	while (done < len) {
		n = write(fd, (const char *)data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rv = cs_err_set(err, CS_ERR_STORE, "%s: write failed: %s", path,
					strerror(errno));
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		rv = cs_err_set(err, CS_ERR_STORE, "%s: cannot flush: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rv = cs_err_set(err, CS_ERR_STORE, "%s: cannot rename into place: %s", path,
				strerror(errno));
		goto out;
	}
	rv = fsync_parent(path, err);
out:
	if (fd >= 0)
		close(fd);
	if (rv != CS_OK)
		unlink(tmp);
	free(tmp);
	return rv;
}

void cs_hex_upper(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

bool cs_thumbprint_normalise(const char *in, char *out, size_t outsz)
{
	size_t n = 0;

	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == ':' || *in == '\t')
			continue;
		if (!isxdigit((unsigned char)*in))
			return false;
		if (n + 1 >= outsz)
			return false;
		out[n++] = (char)toupper((unsigned char)*in);
	}
	out[n] = '\0';
	return n > 0;
}

char *cs_str_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

char *cs_strdup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}
