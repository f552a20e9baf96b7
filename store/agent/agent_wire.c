/*
 * agent_wire.c - parsing and writing the key agent's messages (agent_wire.h).
 */
#include "agent_wire.h"

#include <string.h>

static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t get_u16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int32_t get_i32(const unsigned char *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put_u16(unsigned char *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put_i32(unsigned char *p, int32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static bool is_upper_hex(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'A' && p[i] <= 'F')))
			return false;
	return true;
}

static cs_rv check_magic_version(uint32_t magic, uint16_t version, const char *what, cs_err *err)
{
	if (magic != CS_AGENT_MAGIC)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "not a certstore key agent %s", what);
	if (version != CS_AGENT_VERSION)
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "key agent %s of protocol version %u; this end speaks version %u "
				  "(agent and library from different certstore releases?)",
				  what, (unsigned)version, (unsigned)CS_AGENT_VERSION);
	return CS_OK;
}

cs_rv cs_agent_wire_parse_request_header(const unsigned char *hdr, cs_agent_request *req,
					 size_t *payload_len, cs_err *err)
{
	uint64_t total;
	cs_rv rv;

	memset(req, 0, sizeof(*req));
	*payload_len = 0;
	rv = check_magic_version(get_u32(hdr), get_u16(hdr + 4), "request", err);
	if (rv != CS_OK)
		return rv;
	req->op = get_u16(hdr + 6);
	if (req->op != CS_AGENT_OP_SIGN && req->op != CS_AGENT_OP_DECRYPT)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "unknown key agent operation %u",
				  (unsigned)req->op);
	if (!is_upper_hex(hdr + 8, 40))
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "the certificate is not named by a SHA-1 thumbprint");
	memcpy(req->sha1, hdr + 8, 40);
	req->sha1[40] = '\0';
	req->alg = get_i32(hdr + 48);
	req->md = get_i32(hdr + 52);
	req->mgf1_md = get_i32(hdr + 56);
	req->salt_len = get_i32(hdr + 60);
	req->dir_len = get_u32(hdr + 64);
	req->in_len = get_u32(hdr + 68);
	req->label_len = get_u32(hdr + 72);
	req->out_len = get_u32(hdr + 76);
	/* Each length against its own limit first: a sum of unchecked 32-bit
	 * values can wrap to something small. */
	if (req->dir_len == 0 || req->dir_len > CS_AGENT_MAX_DIR)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "store directory length %u out of range",
				  (unsigned)req->dir_len);
	if (req->in_len == 0 || req->in_len > CS_AGENT_MAX_IN)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "input length %u out of range (1 to %u)",
				  (unsigned)req->in_len, (unsigned)CS_AGENT_MAX_IN);
	if (req->label_len > CS_AGENT_MAX_LABEL ||
	    (req->label_len != 0 && req->op != CS_AGENT_OP_DECRYPT))
		return cs_err_set(err, CS_ERR_BAD_INPUT, "label length %u out of range",
				  (unsigned)req->label_len);
	if (req->out_len > CS_AGENT_MAX_OUT)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "output length %u out of range (0 to %u)",
				  (unsigned)req->out_len, (unsigned)CS_AGENT_MAX_OUT);
	total = (uint64_t)req->dir_len + req->in_len + req->label_len;
	if (total > CS_AGENT_MAX_PAYLOAD)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "request payload too long");
	*payload_len = (size_t)total;
	return CS_OK;
}

cs_rv cs_agent_wire_parse_request_payload(cs_agent_request *req, const unsigned char *payload,
					  size_t len, cs_err *err)
{
	if ((uint64_t)len != (uint64_t)req->dir_len + req->in_len + req->label_len)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "request payload of the wrong length");
	if (memchr(payload, '\0', req->dir_len) != NULL || payload[0] != '/')
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "the store directory is not an absolute path");
	memcpy(req->dir, payload, req->dir_len);
	req->dir[req->dir_len] = '\0';
	req->in = payload + req->dir_len;
	req->label = req->label_len != 0 ? req->in + req->in_len : NULL;
	return CS_OK;
}

void cs_agent_wire_put_request_header(const cs_agent_request *req, unsigned char *hdr)
{
	memset(hdr, 0, CS_AGENT_REQ_HDR);
	put_u32(hdr, CS_AGENT_MAGIC);
	put_u16(hdr + 4, CS_AGENT_VERSION);
	put_u16(hdr + 6, req->op);
	memcpy(hdr + 8, req->sha1, 40);
	put_i32(hdr + 48, req->alg);
	put_i32(hdr + 52, req->md);
	put_i32(hdr + 56, req->mgf1_md);
	put_i32(hdr + 60, req->salt_len);
	put_u32(hdr + 64, req->dir_len);
	put_u32(hdr + 68, req->in_len);
	put_u32(hdr + 72, req->label_len);
	put_u32(hdr + 76, req->out_len);
}

cs_rv cs_agent_wire_parse_answer_header(const unsigned char *hdr, uint32_t out_len,
					cs_agent_answer *ans, cs_err *err)
{
	int32_t rv_field;
	cs_rv rv;

	memset(ans, 0, sizeof(*ans));
	rv = check_magic_version(get_u32(hdr), get_u16(hdr + 4), "answer", err);
	if (rv != CS_OK)
		return rv;
	rv_field = get_i32(hdr + 8);
	ans->msg_len = get_u32(hdr + 12);
	ans->size = get_u32(hdr + 16);
	ans->data_len = get_u32(hdr + 20);
	if (get_u16(hdr + 6) != 0 || rv_field < CS_OK || rv_field > 255)
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "key agent answer with a bad status field");
	ans->rv = (cs_rv)rv_field;
	if (ans->rv == CS_OK) {
		/* A size query gets no data; an operation gets exactly its output,
		 * which must fit what was asked for. */
		if (ans->msg_len != 0 || ans->size > CS_AGENT_MAX_OUT ||
		    (out_len == 0 && ans->data_len != 0) ||
		    (out_len != 0 && (ans->data_len != ans->size || ans->data_len > out_len)))
			return cs_err_set(err, CS_ERR_BAD_INPUT,
					  "key agent answer with inconsistent lengths");
	} else if (ans->msg_len == 0 || ans->msg_len >= CS_ERR_MSG_MAX || ans->data_len != 0 ||
		   ans->size != 0) {
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "key agent refusal with inconsistent lengths");
	}
	return CS_OK;
}

void cs_agent_wire_put_answer_header(const cs_agent_answer *ans, unsigned char *hdr)
{
	memset(hdr, 0, CS_AGENT_RESP_HDR);
	put_u32(hdr, CS_AGENT_MAGIC);
	put_u16(hdr + 4, CS_AGENT_VERSION);
	put_i32(hdr + 8, (int32_t)ans->rv);
	put_u32(hdr + 12, ans->msg_len);
	put_u32(hdr + 16, ans->size);
	put_u32(hdr + 20, ans->data_len);
}
