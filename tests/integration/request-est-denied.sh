#!/bin/bash
# An EST server's final refusal (RFC 7030 4.2.3: an error status; 400
# "request rejected by CA policy" here, 409 and 422 too) drops the request and the key made for it
# (issue 18, defect 9): kept, the request could only be refused again and
# every corrected retry left one more key pair in the token.  The same on
# `request --retrieve` of a request the server answered 202 first, and for a
# same-key renewal, whose key stays with the certificate it renews.  A limit
# that passes (429) keeps the request, as a 500 does (request-est-faults.sh).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/token.sh"
. "$(dirname "$0")/../lib/est.sh"

make_token || tap_bail "cannot make the store's token"
est_start || tap_bail "the EST fixture did not start"
est_profile est
est_trust_root est
pending_count() { cs requests --json | grep -c '"id"'; }
last_id() { printf '%s' "$ERR" | sed -n 's/.*--retrieve \([0-9]*\).*/\1/p' | tail -1; }

# --- refused at once ------------------------------------------------------------------
est_mode reject
my=$(cs list My --json)
tokens=$(token_objects)
run_cs request --cn denied.example --san dns:denied.example --ca est
tap_is "$RC" 12 "refused at once: exit 12 (the CA refused)"
tap_like "$ERR" "the EST server est refused the request \(/simpleenroll\): HTTP 400: request rejected by CA policy" \
	"refused at once: the server's words"
tap_like "$ERR" "nothing kept: request [0-9]+ and its new key were removed" \
	"refused at once: says the request and its key were removed"
tap_is "$(pending_count)" 0 "refused at once: the request is not kept"
tap_is "$(token_objects)" "$tokens" "refused at once: its key is gone from the token"
tap_is "$(cs list My --json)" "$my" "refused at once: My unchanged"
run_cs request --cn denied.example --san dns:denied.example --ca est
tap_is "$RC" 12 "refused again: exit 12"
tap_is "$(token_objects)" "$tokens" "refused again: no key piles up"

# 409 and 422 refuse these bytes as well: final, on --retrieve too.
for refusal in "conflict 409 conflicts with a certificate the CA holds" \
	"unacceptable 422 subject not acceptable"; do
	set -- $refusal
	mode=$1 code=$2
	shift 2
	words="$*"
	est_mode pending
	run_cs request --cn "$mode.example" --san "dns:$mode.example" --ca est
	id=$(last_id)
	est_mode "$mode"
	run_cs request --retrieve "$id"
	tap_is "$RC" 12 "$code on --retrieve: exit 12"
	tap_like "$ERR" "HTTP $code: $words" "$code on --retrieve: the server's words"
	tap_like "$ERR" "nothing kept: request $id and its new key were removed" \
		"$code on --retrieve: says what was removed"
	tap_is "$(token_objects)" "$tokens" "$code on --retrieve: its key is gone from the token"
	tap_is "$(pending_count)" 0 "$code on --retrieve: the request is not kept"
done

# --- pending (202), then refused on --retrieve ------------------------------------------
est_mode pending
before=$(token_count)
run_cs request --cn later.example --san dns:later.example --ca est
tap_is "$RC" 15 "pending: exit 15"
id=$(last_id)
tap_is "$(token_count)" $((before + 2)) "pending: its new key waits in the token"
est_mode reject
run_cs request --retrieve "$id"
tap_is "$RC" 12 "refused on --retrieve: exit 12"
tap_like "$ERR" "HTTP 400: request rejected by CA policy" "refused on --retrieve: the server's words"
tap_like "$ERR" "nothing kept: request $id and its new key were removed" \
	"refused on --retrieve: says what was removed"
tap_is "$(pending_count)" 0 "refused on --retrieve: the request is not kept"
tap_is "$(token_count)" "$before" "refused on --retrieve: nor its key"
tap_is "$(cs list My --json)" "$my" "refused on --retrieve: My unchanged"

# --- a limit that passes keeps the request -----------------------------------------------
est_mode pending
run_cs request --cn busy.example --san dns:busy.example --ca est
id=$(last_id)
est_mode busy
tokens=$(token_objects)
run_cs request --retrieve "$id"
tap_is "$RC" 12 "429 on --retrieve: exit 12"
tap_like "$ERR" "pending request $id kept" "429 on --retrieve: says the request is kept"
tap_is "$(pending_count)" 1 "429 on --retrieve: still pending"
tap_is "$(token_objects)" "$tokens" "429 on --retrieve: key kept"
est_mode issue
run_cs request --retrieve "$id"
tap_is "$RC" 0 "429, then issued on --retrieve: exit 0"
thumb=$(printf '%s' "$OUT" | sed -n 's/.*Thumbprint: *//p')

# --- a same-key renewal refused: the request goes, the key stays ------------------------
est_mode reject
before=$(token_count)
run_cs renew "$thumb" --ca est
tap_is "$RC" 12 "same-key renewal refused: exit 12"
tap_like "$ERR" "refused the request \(/simplereenroll\): HTTP 400" \
	"same-key renewal refused: /simplereenroll, the server's words"
tap_like "$ERR" "nothing kept: request [0-9]+ was removed; its key stays \(in use: $thumb\)" \
	"same-key renewal refused: says the key stays and why"
tap_is "$(pending_count)" 0 "same-key renewal refused: the request is not kept"
tap_is "$(token_count)" "$before" "same-key renewal refused: the key is still there"
# The renewal's request has the certificate's subject and key: the same bytes
# as the one the fixture has seen pending already, so it would issue at once.
rm -f "$EST_DIR"/seen-*
est_mode pending
run_cs renew "$thumb" --ca est
tap_is "$RC" 15 "same-key renewal, pending: exit 15"
id=$(last_id)
est_mode reject
run_cs request --retrieve "$id"
tap_is "$RC" 12 "same-key renewal refused on --retrieve: exit 12"
tap_like "$ERR" "nothing kept: request $id was removed; its key stays \(in use: $thumb\)" \
	"same-key renewal refused on --retrieve: says the key stays and why"
tap_is "$(pending_count)" 0 "same-key renewal refused on --retrieve: the request is not kept"
tap_is "$(token_count)" "$before" "same-key renewal refused on --retrieve: the key is still there"
run_cs verify "$thumb"
tap_like "$OUT" "^Valid$" "same-key renewal refused: the renewed certificate is still Valid"
tap_done
