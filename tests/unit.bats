#!/usr/bin/env bats
# not tested: nothing beyond what each C test program checks itself.
load helper

@test "C unit tests (tests/c/t_*) all pass" {
	n=0
	for t in "$RELAY_BUILD"/tests/t_*; do
		[ -x "$t" ] || continue
		run "$t"
		echo "$t: $output"
		[ "$status" -eq 0 ]
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}
