/*
 * fuzz_agent.c - libFuzzer target over the key agent's wire parsers
 * (store/agent/agent_wire.c): the request parser the agent runs on whatever a
 * local user sends, and the answer parser its clients run on what comes
 * back.  The first input byte picks the parser (even: request, odd:
 * answer; for an answer it also gives the output size asked for); the rest
 * is the message as it would arrive on the socket.
 *
 * Build: ./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_agent
 * Run:   tests/fuzz/fuzz_agent -max_total_time=60 tests/fuzz/corpus/agent
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void request(const uint8_t *data, size_t size)
{
	cs_agent_request req;
	size_t payload_len;
	unsigned char *payload;
	cs_err err;

	if (size < CS_AGENT_REQ_HDR ||
	    cs_agent_wire_parse_request_header(data, &req, &payload_len, &err) != CS_OK)
		return;
	if (payload_len > CS_AGENT_MAX_PAYLOAD)
		abort(); /* the header check's promise */
	if (size - CS_AGENT_REQ_HDR < payload_len)
		return; /* the agent would wait for the rest, up to its deadline */
	/* a copy of exactly the announced size, so that ASan sees any overread */
	payload = malloc(payload_len ? payload_len : 1);
	if (payload == NULL)
		return;
	memcpy(payload, data + CS_AGENT_REQ_HDR, payload_len);
	if (cs_agent_wire_parse_request_payload(&req, payload, payload_len, &err) == CS_OK) {
		volatile unsigned char sink = 0;

		for (uint32_t i = 0; i < req.in_len; i++)
			sink ^= req.in[i];
		for (uint32_t i = 0; req.label != NULL && i < req.label_len; i++)
			sink ^= req.label[i];
		if (strlen(req.dir) != req.dir_len)
			abort();
		(void)sink;
	}
	free(payload);
}

static void answer(uint32_t out_len, const uint8_t *data, size_t size)
{
	cs_agent_answer ans;
	cs_err err;

	if (size < CS_AGENT_RESP_HDR ||
	    cs_agent_wire_parse_answer_header(data, out_len, &ans, &err) != CS_OK)
		return;
	/* what the client then reads into its fixed buffers */
	if (ans.msg_len >= CS_ERR_MSG_MAX || ans.data_len > out_len ||
	    ans.data_len > CS_AGENT_MAX_OUT)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0)
		request(data + 1, size - 1);
	else
		answer((uint32_t)(data[0] >> 1) * 8, data + 1, size - 1);
	return 0;
}
