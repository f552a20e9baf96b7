/*
 * certsrv_parse.c - see certsrv_parse.h.
 *
 * The markers are those of the AD CS web enrollment pages as publicly
 * described (Microsoft's "Certificate Services Web Enrollment" pages, and
 * the clients that drive them, e.g. the certsrv Python module):
 *   issued    certfnsh.asp links "certnew.cer?ReqID=N&Enc=..."
 *   pending   "Certificate Pending" ... "Your Request Id is N."
 *   denied    "Your certificate request was denied" / "Certificate Request
 *             Denied", with 'The disposition message is "..."'
 *   certnew.cer as HTML (not issued): "Disposition message:" then the text,
 *             "Taken Under Submission" while pending, "Denied by ..." after
 *   certcarc.asp  "var nRenewals=N;"
 * Everything is bounded by len: the page need not be NUL-terminated.
 */
#include "certsrv_parse.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Case-insensitive search for needle in page[0..len); NULL when absent. */
static const char *find(const char *page, size_t len, const char *needle)
{
	size_t n = strlen(needle), i, j;

	for (i = 0; n <= len && i <= len - n; i++) {
		for (j = 0; j < n; j++)
			if (tolower((unsigned char)page[i + j]) !=
			    tolower((unsigned char)needle[j]))
				break;
		if (j == n)
			return page + i;
	}
	return NULL;
}

/* Digits right after marker (optional spaces between), into out. */
static bool number_after(const char *page, size_t len, const char *marker, char *out, size_t outlen)
{
	const char *p = find(page, len, marker), *end = page + len;
	size_t n = 0;

	if (p == NULL)
		return false;
	p += strlen(marker);
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (p < end && isdigit((unsigned char)*p) && n + 1 < outlen)
		out[n++] = *p++;
	out[n] = '\0';
	return n > 0;
}

/* Copies text from p up to stop (or a tag run, len bytes), tags dropped, spaces folded. */
static void copy_text(const char *p, const char *end, char stop, char *out, size_t outlen)
{
	size_t n = 0;
	bool in_tag = false, space = false;

	for (; p < end && *p != stop && n + 1 < outlen; p++) {
		if (*p == '<')
			in_tag = true;
		else if (*p == '>')
			in_tag = false;
		else if (in_tag)
			continue;
		else if (isspace((unsigned char)*p))
			space = n > 0;
		else if ((unsigned char)*p >= 0x20) {
			if (space && n + 2 < outlen)
				out[n++] = ' ';
			space = false;
			out[n++] = *p;
		}
	}
	out[n] = '\0';
}

static void disposition(const char *page, size_t len, char *out, size_t outlen)
{
	const char *end = page + len, *p = find(page, len, "The disposition message is");

	out[0] = '\0';
	if (p != NULL) {
		p = memchr(p, '"', (size_t)(end - p));
		if (p != NULL)
			copy_text(p + 1, end, '"', out, outlen);
		return;
	}
	p = find(page, len, "Disposition message:");
	if (p != NULL) {
		p += strlen("Disposition message:");
		/* the value is the next line of text after the label's cell */
		while (p < end && (*p == '<' || isspace((unsigned char)*p))) {
			if (*p == '<')
				while (p < end && *p != '>')
					p++;
			if (p < end)
				p++;
		}
		copy_text(p, end, '\n', out, outlen);
	}
}

void certsrv_parse_result(const char *page, size_t len, certsrv_result *out)
{
	memset(out, 0, sizeof(*out));
	if (page == NULL)
		return;
	disposition(page, len, out->message, sizeof(out->message));
	if (number_after(page, len, "certnew.cer?ReqID=", out->request_id,
			 sizeof(out->request_id))) {
		out->outcome = CERTSRV_ISSUED;
		return;
	}
	number_after(page, len, "Your Request Id is", out->request_id, sizeof(out->request_id));
	if (find(page, len, "was denied") || find(page, len, "Request Denied") ||
	    find(out->message, strlen(out->message), "Denied"))
		out->outcome = CERTSRV_DENIED;
	else if (find(page, len, "Certificate Pending") ||
		 find(out->message, strlen(out->message), "Under Submission") ||
		 (out->request_id[0] && find(page, len, "must wait for an administrator")))
		out->outcome = CERTSRV_PENDING;
}

long certsrv_parse_renewals(const char *page, size_t len)
{
	char digits[8];

	if (page == NULL || !number_after(page, len, "nRenewals=", digits, sizeof(digits)))
		return -1;
	return strtol(digits, NULL, 10);
}
