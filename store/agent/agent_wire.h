/*
 * agent_wire.h - the key agent's wire protocol (internal to libcertstore;
 * agent.c serves it, agent_client.c speaks it, tests/fuzz/fuzz_agent.c
 * throws arbitrary bytes at both parsers).
 *
 * One connection carries any number of request/answer pairs, one at a
 * time.  Every message is a fixed header whose fields sit at fixed offsets
 * (native byte order: both ends are on this machine), then a payload whose
 * length the header gives field by field.  The parsers decide, from the
 * header alone and before a payload byte is read, whether the message is
 * acceptable: each length is checked against its own limit, and their sum
 * is computed in 64 bits, so no value of any field can make a reader read
 * past a buffer or wait for more than CS_AGENT_MAX_PAYLOAD bytes.
 *
 *   request   0 u32 magic "CSA2"   4 u16 version   6 u16 op
 *             8 char sha1[40] (upper-case hex, no NUL)
 *            48 i32 alg  52 i32 md  56 i32 mgf1_md  60 i32 salt_len
 *            64 u32 dir_len  68 u32 in_len  72 u32 label_len  76 u32 out_len
 *            80 payload: store directory, input, OAEP label
 *   answer    0 u32 magic  4 u16 version  6 u16 zero  8 i32 rv
 *            12 u32 msg_len  16 u32 size  20 u32 data_len
 *            24 payload: message (rv != CS_OK), data (rv == CS_OK)
 *
 * out_len 0 asks for the size of the output only: the answer's size field
 * carries it and no data follows.
 */
#ifndef CS_AGENT_WIRE_H
#define CS_AGENT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "certstore.h"

#define CS_AGENT_MAGIC 0x32415343u /* "CSA2" */
#define CS_AGENT_VERSION 2
#define CS_AGENT_REQ_HDR 80
#define CS_AGENT_RESP_HDR 24
#define CS_AGENT_MAX_DIR 4095	/* a store directory, as PATH_MAX less its NUL */
#define CS_AGENT_MAX_IN 4096	/* a digest, a DigestInfo, an RSA-8192 ciphertext */
#define CS_AGENT_MAX_LABEL 1024 /* an OAEP label */
#define CS_AGENT_MAX_OUT 1024	/* an RSA-8192 signature or plaintext */
#define CS_AGENT_MAX_PAYLOAD (CS_AGENT_MAX_DIR + CS_AGENT_MAX_IN + CS_AGENT_MAX_LABEL)

enum { CS_AGENT_OP_SIGN = 1, CS_AGENT_OP_DECRYPT = 2 };

typedef struct cs_agent_request {
	uint16_t op;
	char sha1[41];
	int32_t alg, md, mgf1_md, salt_len;
	uint32_t dir_len, in_len, label_len, out_len;
	/* Set by cs_agent_wire_parse_request_payload: */
	char dir[CS_AGENT_MAX_DIR + 1];
	const unsigned char *in;    /* in_len bytes inside the payload */
	const unsigned char *label; /* label_len bytes inside the payload, or NULL */
} cs_agent_request;

typedef struct cs_agent_answer {
	cs_rv rv;
	uint32_t msg_len, size, data_len;
} cs_agent_answer;

/*
 * Checks a request header (exactly CS_AGENT_REQ_HDR bytes) and fills the
 * header fields of req and *payload_len, the bytes to read next (at most
 * CS_AGENT_MAX_PAYLOAD).  CS_ERR_BAD_INPUT says which field is wrong.
 */
cs_rv cs_agent_wire_parse_request_header(const unsigned char *hdr, cs_agent_request *req,
					 size_t *payload_len, cs_err *err);

/* Checks the payload that header announced (len must be *payload_len) and
 * points req->in and req->label into it; req->dir receives a copy. */
cs_rv cs_agent_wire_parse_request_payload(cs_agent_request *req, const unsigned char *payload,
					  size_t len, cs_err *err);

/* Writes req's header into hdr (CS_AGENT_REQ_HDR bytes). */
void cs_agent_wire_put_request_header(const cs_agent_request *req, unsigned char *hdr);

/*
 * Checks an answer header (CS_AGENT_RESP_HDR bytes) to a request that asked
 * for out_len bytes (0: the size only) and fills ans.  The payload to read
 * next is ans->msg_len + ans->data_len bytes, at most CS_ERR_MSG_MAX - 1 +
 * out_len.
 */
cs_rv cs_agent_wire_parse_answer_header(const unsigned char *hdr, uint32_t out_len,
					cs_agent_answer *ans, cs_err *err);

/* Writes an answer header into hdr (CS_AGENT_RESP_HDR bytes). */
void cs_agent_wire_put_answer_header(const cs_agent_answer *ans, unsigned char *hdr);

#endif
