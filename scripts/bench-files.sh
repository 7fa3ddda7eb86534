#!/usr/bin/env bash
# bench-files.sh: writing capture files, weir against tcpdump and editcap.
#
#   scripts/bench-files.sh [WEIR_BINARY]        (default ./bin/weir)
#
# On the N-packet Ethernet capture of bench-offline.sh (generated once with
# `gencaptures -big`, cached under $BENCH_DIR), times, interleaved, REPS
# times each:
#   convert   pcap -> pcapng: weir -r BIG -w OUT.pcapng, editcap -F pcapng
#             BIG OUT, and tcpdump -r BIG -w OUT (tcpdump writes pcap only:
#             its plain copy is the nearest it does)
#   filter    filtered copy to pcap: weir and tcpdump -r BIG -w OUT EXPR
#             (editcap cannot filter by expression)
#   filterng  filtered copy to pcapng: weir -r BIG -w OUT.pcapng EXPR
#             against tcpdump's filtered pcap copy
# and prints the medians in packets per second. Each tool's output is
# checked once with capinfos: same packet count, and the format expected.
#
# Environment: N=2000000 packets, REPS=5, BENCH_DIR=${TMPDIR:-/tmp}/weir-bench,
# TCPDUMP=tcpdump, EDITCAP=editcap, GO=go.
set -euo pipefail

cd "$(dirname "$0")/.."
WEIR=${1:-./bin/weir}
N=${N:-2000000}
REPS=${REPS:-5}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/weir-bench}
TCPDUMP=${TCPDUMP:-tcpdump}
EDITCAP=${EDITCAP:-editcap}
GO=${GO:-go}
EXPR='tcp[tcpflags] & (tcp-syn|tcp-fin) != 0 and net 198.18.0.0/16'

die() { echo "bench-files: $*" >&2; exit 1; }

for tool in "$TCPDUMP" "$EDITCAP" capinfos; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y tcpdump tshark)"
done
[ -x "$WEIR" ] || die "$WEIR is not an executable (make build)"
case "$WEIR" in /*) ;; *) WEIR=$PWD/$WEIR ;; esac
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (EPOCHREALTIME)"

mkdir -p "$BENCH_DIR"
gen_hash=$(cat internal/cmd/gencaptures/*.go | sha256sum | cut -c1-12)
BIG=$BENCH_DIR/big-$N-$gen_hash.pcap
if [ ! -s "$BIG" ]; then
	echo "generating $BIG ($N packets)..." >&2
	"$GO" run ./internal/cmd/gencaptures -big "$N" -o "$BIG.tmp"
	mv "$BIG.tmp" "$BIG"
fi
OUT=$BENCH_DIR/files-out
cat "$BIG" >/dev/null # warm the page cache

# Each job: name|tool|command, with {in} and {out} replaced.
JOBS=(
	"convert|weir|$WEIR -r {in} -w {out}.pcapng"
	"convert|editcap|$EDITCAP -F pcapng {in} {out}.pcapng"
	"convert|tcpdump|$TCPDUMP -r {in} -w {out}.pcap"
	"filter|weir|$WEIR -r {in} -w {out}.pcap EXPR"
	"filter|tcpdump|$TCPDUMP -r {in} -w {out}.pcap EXPR"
	"filterng|weir|$WEIR -r {in} -w {out}.pcapng EXPR"
	"filterng|tcpdump|$TCPDUMP -r {in} -w {out}.pcap EXPR"
)

# run_job JOB: runs it once; prints the output file's name.
run_job() {
	local cmd=${1##*|} words=() w
	cmd=${cmd//\{in\}/$BIG}
	cmd=${cmd//\{out\}/$OUT}
	read -r -a words <<<"${cmd% EXPR}"
	if [[ $cmd == *" EXPR" ]]; then words+=("$EXPR"); fi
	"${words[@]}" >/dev/null 2>&1 || die "failed: ${words[*]}"
	for w in "${words[@]}"; do case "$w" in "$OUT".*) echo "$w" ;; esac; done
}

seconds() {
	local start=$EPOCHREALTIME
	run_job "$1" >/dev/null
	awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.4f\n", b - a }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A times checked
for job in "${JOBS[@]}"; do
	out=$(run_job "$job")
	info=$(capinfos -c -t -M "$out") || die "capinfos cannot read the output of: $job"
	count=$(awk '/Number of packets/ {print $NF}' <<<"$info")
	type=$(awk -F': *' '/File type/ {print $2}' <<<"$info")
	checked[$job]="$count, $type"
	rm -f "$out"
done

for rep in $(seq "$REPS"); do
	for job in "${JOBS[@]}"; do
		times[$job]+="$(seconds "$job") "
		rm -f "$OUT".*
	done
	echo "rep $rep/$REPS done" >&2
done

echo "input: $BIG, $N packets; median of $REPS runs each, interleaved; EXPR = $EXPR"
printf '\n| %-8s | %-8s | %14s | %-44s |\n' workload tool "packets/s" "output (packets, type)"
printf '|%s|%s|%s|%s|\n' ---------- ---------- ---------------- ----------------------------------------------
declare -A best
for job in "${JOBS[@]}"; do
	IFS='|' read -r name tool _ <<<"$job"
	t=$(tr ' ' '\n' <<<"${times[$job]}" | grep . | median)
	awk -v name="$name" -v tool="$tool" -v n="$N" -v t="$t" -v c="${checked[$job]}" \
		'BEGIN { printf "| %-8s | %-8s | %14.0f | %-44s |\n", name, tool, n / t, c }'
	best[$name,$tool]=$t
done
echo
for name in convert filter filterng; do
	for tool in editcap tcpdump; do
		[ -n "${best[$name,$tool]:-}" ] || continue
		awk -v name="$name" -v tool="$tool" -v a="${best[$name,weir]}" -v b="${best[$name,$tool]}" \
			'BEGIN { printf "%s: weir %.2fx as fast as %s\n", name, b / a, tool }'
	done
done
