#!/usr/bin/env bats
# not tested: includes hidden behind macros, and which functions of a wing another wing calls (only its headers are checked).
load helper

ROOT="$BATS_TEST_DIRNAME/.."

@test "lib/: every include names its wing and points down the floors of doc/architecture.md" {
	run "$ROOT/scripts/check-layers"
	assert_success
	assert_output ""
}

@test "check-layers finds an include that points up, sideways or names no wing" {
	cp -r "$ROOT/lib" "$BATS_TEST_TMPDIR/lib"
	l="$BATS_TEST_TMPDIR/lib"
	printf '#include "send/pool.h"\n' >> "$l/base/buf.c"
	printf '#include "dkim/dkim.h"\n' >> "$l/bounce/dsn.c"
	printf '#include "buf.h"\n' >> "$l/net/dns.c"
	run "$ROOT/scripts/check-layers" "$l"
	assert_failure
	assert_line --partial 'base/buf.c:'
	assert_line --partial 'base/ (floor 0) may not include send/pool.h'
	assert_line --partial 'bounce/ (floor 3) may not include dkim/dkim.h'
	assert_line --partial 'names no wing'
}
