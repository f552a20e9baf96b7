#!/bin/bash
# `certstore ca discover` where no directory answers: the domain controller
# unreachable (with --add: no profile written), a simple bind without a
# password file, a password file others can read, options out of place.
# Each: its message, its exit code, the store unchanged.  (The directory
# itself, Samba as an AD DC, is the heavy test's; see issue 18.)
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/token.sh"

make_token || tap_bail "cannot make the store's token"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
before=$(store_snapshot)

run_cs ca discover --domain corp.example.test --server "127.0.0.1:$port"
tap_is "$RC" 17 "directory server unreachable: exit 17"
tap_like "$ERR" "cannot reach the domain controller 127.0.0.1:$port" "unreachable: says which server"

run_cs ca discover --domain corp.example.test --server "127.0.0.1:$port" --add adcs --from CA1 --template WebServer
tap_is "$RC" 17 "--add, directory unreachable: exit 17"
tap_is "$(store_snapshot)" "$before" "--add, directory unreachable: no profile written, store unchanged"
tap_ok "--add, directory unreachable: no CA certificate kept" test ! -e "$STORE/ad-adcs.crt"

run_cs ca discover --domain corp.example.test --server "127.0.0.1:$port" --bind-user enroll@corp.example.test
tap_is "$RC" 2 "--bind-user without --password-file: exit 2"
tap_like "$ERR" "never a password on the command line" "--bind-user alone: says where the password goes"

printf 'secret\n' >"$TEST_TMP/pw"
chmod 644 "$TEST_TMP/pw"
run_cs ca discover --domain corp.example.test --server "127.0.0.1:$port" \
	--bind-user enroll@corp.example.test --password-file "$TEST_TMP/pw"
tap_is "$RC" 11 "password file readable by others: exit 11"
tap_like "$ERR" "accessible by group or others" "password file readable by others: says so"
tap_unlike "$ERR" "secret" "password file readable by others: the password is not printed"

run_cs ca discover --domain corp.example.test --from CA1
tap_is "$RC" 2 "--from without --add: exit 2"
run_cs ca discover --json extra
tap_is "$RC" 2 "an operand: exit 2"
tap_is "$(store_snapshot)" "$before" "after every fault: store unchanged"
tap_done
