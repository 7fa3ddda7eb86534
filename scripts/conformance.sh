#!/usr/bin/env bash
# conformance.sh: the eBPF lowering on the shared pcap-filter corpus. Every
# (capture, expression) pair tcpdump accepts is compiled, lowered for the
# socket filter, XDP and tcx, verified and run in the kernel on every packet
# of the capture, compiled optimized (as tcpdump -r) and unoptimized (as
# weir -O); the verdicts must equal filter.Run's. Needs root and tcpdump.
# Usage: scripts/conformance.sh [CORPUS] (default ../shared/corpus).
set -euo pipefail

corpus=${1:-../shared/corpus}
if [[ ! -f $corpus/expressions.tsv || ! -d $corpus/pcaps ]]; then
	echo "conformance: no corpus at $corpus (expressions.tsv and pcaps/ expected)" >&2
	exit 1
fi
corpus=$(cd "$corpus" && pwd)
go=${GO:-go}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
WEIR_STRICT=1 "$go" test ./bpf -run '^TestConformance$' -count=1 -v -timeout 60m \
	-args -conformance.corpus="$corpus" -conformance.unoptimized >"$log" 2>&1 || status=$?
# The failures in detail (a verifier log can be long), then the counts.
grep -E '^\s+conformance_linux_test.go|^--- |^(ok|FAIL)' "$log" | cut -c1-2000 || true
grep -E '^conformance: ' "$log" || { tail -n 50 "$log"; echo "conformance: no result" >&2; exit 1; }
exit "$status"
