#!/usr/bin/env bash
# bench-offline.sh: offline filtering speed, weir against tcpdump.
#
#   scripts/bench-offline.sh [WEIR_BINARY]        (default ./bin/weir)
#
# Generates once (cached under $BENCH_DIR) an N-packet Ethernet capture
# with `gencaptures -big`, then for each of three expressions times
# `tcpdump -r BIG -w /dev/null EXPR` and `weir -r BIG -w /dev/null EXPR`,
# interleaved, REPS times, and prints medians as packets per second. Before
# timing, both tools write their matches to a file once; the counts must be
# equal, or the script fails.
#
# Environment: N=2000000 packets, REPS=5, BENCH_DIR=${TMPDIR:-/tmp}/weir-bench,
# TCPDUMP=tcpdump, GO=go.
set -euo pipefail

cd "$(dirname "$0")/.."
WEIR=${1:-./bin/weir}
N=${N:-2000000}
REPS=${REPS:-5}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/weir-bench}
TCPDUMP=${TCPDUMP:-tcpdump}
GO=${GO:-go}

die() { echo "bench-offline: $*" >&2; exit 1; }

command -v "$TCPDUMP" >/dev/null || die "$TCPDUMP not found (apt-get install -y tcpdump)"
[ -x "$WEIR" ] || die "$WEIR is not an executable (build it: go build -o bin/weir ./cmd/weir)"
case "$WEIR" in /*) ;; *) WEIR=$PWD/$WEIR ;; esac
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (EPOCHREALTIME)"

NAMES=(simple medium complex)
EXPRS=(
	'tcp port 80 and net 198.18.0.0/16'
	'tcp[tcpflags] & (tcp-syn|tcp-fin) != 0 and net 198.18.0.0/16'
	'host 198.19.200.1 or host 198.19.200.2 or host 198.19.200.3 or host 198.18.10.10 or host 198.18.20.20 or host fd00:beef::101 or net 198.18.128.0/24 or net 198.19.64.0/20 or tcp port 22 or tcp port 8080 or udp port 53 or udp port 123 or udp port 514 or port 5432 or icmp or icmp6 or arp or tcp[tcpflags] & tcp-rst != 0 or ip[8] < 2 or (ip6 and udp port 443)'
)

# The capture is cached by packet count and by the generator's source, so
# a changed generator makes a new file.
mkdir -p "$BENCH_DIR"
gen_hash=$(cat internal/cmd/gencaptures/*.go | sha256sum | cut -c1-12)
BIG=$BENCH_DIR/big-$N-$gen_hash.pcap
if [ ! -s "$BIG" ]; then
	echo "generating $BIG ($N packets)..." >&2
	"$GO" run ./internal/cmd/gencaptures -big "$N" -o "$BIG.tmp"
	mv "$BIG.tmp" "$BIG"
fi

# count_packets FILE: packets in a pcap file, with capinfos when present.
count_packets() {
	if command -v capinfos >/dev/null; then
		capinfos -c -M "$1" | awk '/Number of packets/ {print $NF}'
	else
		"$TCPDUMP" -r "$1" -nn -q -t 2>/dev/null | wc -l
	fi
}

# seconds CMD...: wall-clock seconds of one run; the tool's output is discarded.
seconds() {
	local start=$EPOCHREALTIME
	"$@" >/dev/null 2>&1 || die "failed: $*"
	awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.4f\n", b - a }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

cat "$BIG" >/dev/null # warm the page cache

declare -A matched times
mismatch=0
for i in "${!EXPRS[@]}"; do
	out=$BENCH_DIR/verify.pcap
	# tcpdump may drop root privileges before opening -w; the shell writes instead.
	"$TCPDUMP" -r "$BIG" -w - "${EXPRS[$i]}" 2>/dev/null >"$out" || die "tcpdump rejected: ${EXPRS[$i]}"
	matched[tcpdump,$i]=$(count_packets "$out")
	"$WEIR" -r "$BIG" -w "$out" "${EXPRS[$i]}" >/dev/null 2>&1 || die "weir failed on: ${EXPRS[$i]}"
	matched[weir,$i]=$(count_packets "$out")
	rm -f "$out"
	if [ "${matched[tcpdump,$i]}" != "${matched[weir,$i]}" ]; then
		mismatch=1
	fi
done

for rep in $(seq "$REPS"); do
	for i in "${!EXPRS[@]}"; do
		times[tcpdump,$i]+="$(seconds "$TCPDUMP" -r "$BIG" -w /dev/null "${EXPRS[$i]}") "
		times[weir,$i]+="$(seconds "$WEIR" -r "$BIG" -w /dev/null "${EXPRS[$i]}") "
	done
	echo "rep $rep/$REPS done" >&2
done

echo "input: $BIG, $N packets; median of $REPS runs each, interleaved"
for i in "${!EXPRS[@]}"; do
	echo "  ${NAMES[$i]}: ${EXPRS[$i]}"
done
printf '\n| %-10s | %14s | %14s | %12s | %-28s |\n' expression "tcpdump pkts/s" "weir pkts/s" "weir/tcpdump" "matched (tcpdump, weir)"
printf '|%s|%s|%s|%s|%s|\n' ------------ ---------------- ---------------- -------------- ------------------------------
for i in "${!EXPRS[@]}"; do
	td=$(tr ' ' '\n' <<<"${times[tcpdump,$i]}" | grep . | median)
	wd=$(tr ' ' '\n' <<<"${times[weir,$i]}" | grep . | median)
	check=ok
	[ "${matched[tcpdump,$i]}" = "${matched[weir,$i]}" ] || check=DIFFERENT
	awk -v name="${NAMES[$i]}" -v n="$N" -v td="$td" -v wd="$wd" -v m="${matched[tcpdump,$i]}, ${matched[weir,$i]} $check" \
		'BEGIN { printf "| %-10s | %14.0f | %14.0f | %12.2f | %-28s |\n", name, n / td, n / wd, td / wd, m }'
done
[ "$mismatch" = 0 ] || die "weir and tcpdump matched different packet counts"
