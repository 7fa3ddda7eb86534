#!/usr/bin/env bash
# bench-sets.sh: sets in kernel maps against tcpdump's "or" chains.
#
#   scripts/bench-sets.sh [WEIR_BINARY]        (as root; default ./bin/weir)
#
# 1. Start-up: for each size in SIZES, a set of that many /24 networks
#    (198.19.0.0/24, which holds the live mix's 200 matching sources, then
#    distinct random ones outside 198.0.0.0/8) is given to weir --xdp on
#    the benchmark's veth; the table has the wall time and CPU until weir
#    says "listening on" (parse, compile, maps loaded, program attached).
#    The same networks as a "net A or net B ..." chain go to tcpdump -d,
#    optimized and not (-O), each with TCPDUMP_TIMEOUT seconds: its compile
#    time and program length, which the kernel refuses above 4096
#    instructions (libpcap then filters in user space).
# 2. Live: ../shared/bench/live.sh (1% of the packets come from the
#    set's first 200 addresses): case hosts$LIVE_TCPDUMP_HOSTS, tcpdump
#    with the chain unoptimized (-O: optimizing 2,000 terms takes libpcap
#    15 minutes) against weir --xdp with the same addresses as a set; what
#    tcpdump does with the hosts$LIVE_HOSTS chain; then weir --xdp with
#    each set of step 1, side by side. Packets offered, in the file, kernel
#    drops, the capture's CPU per million offered packets.
#
# Environment: BENCH=../shared/bench, SIZES="1000 10000 100000 1000000",
# LIVE_TCPDUMP_HOSTS=2000, LIVE_HOSTS=10000, REPS=3, N=2000000, TCPDUMP=tcpdump,
# TCPDUMP_TIMEOUT=60, TCPDUMP_MAX=100000 (larger chains are not tried),
# RESULTS=${TMPDIR:-/tmp}/weir-bench/sets.
set -euo pipefail
cd "$(dirname "$0")/.."
WEIR=${1:-./bin/weir}
BENCH=${BENCH:-../shared/bench}
TCPDUMP=${TCPDUMP:-tcpdump}
SIZES=${SIZES:-"1000 10000 100000 1000000"}
LIVE_HOSTS=${LIVE_HOSTS:-10000}
LIVE_TCPDUMP_HOSTS=${LIVE_TCPDUMP_HOSTS:-2000}
TCPDUMP_TIMEOUT=${TCPDUMP_TIMEOUT:-60}
TCPDUMP_MAX=${TCPDUMP_MAX:-100000}
RESULTS=${RESULTS:-${TMPDIR:-/tmp}/weir-bench/sets}
export REPS=${REPS:-3} N=${N:-2000000}
export NS_GEN=${NS_GEN:-ws-gen} NS_CAP=${NS_CAP:-ws-cap}

die() { echo "bench-sets: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces, eBPF programs)"
[ -x "$BENCH/live.sh" ] || die "$BENCH/live.sh not found (set BENCH)"
command -v "$TCPDUMP" >/dev/null || die "$TCPDUMP not found (apt-get install -y tcpdump)"
[ -x "$WEIR" ] || die "$WEIR is not an executable (make build)"
case "$WEIR" in /*) ;; *) WEIR=$PWD/$WEIR ;; esac
mkdir -p "$RESULTS"

# networks N: 198.19.0.0/24 (it holds the live mix's 200 matching
# sources), then distinct random /24 networks outside 198.0.0.0/8 (where
# the mix's other addresses are), one per line.
networks() {
	awk -v n="$1" 'BEGIN {
		print "198.19.0.0/24"
		srand(7); m = n - 1
		while (m > 0) {
			a = 1 + int(rand() * 223); b = int(rand() * 256); c = int(rand() * 256)
			k = a * 65536 + b * 256 + c
			if (a != 198 && !(k in seen)) { seen[k] = 1; m--; printf "%d.%d.%d.0/24\n", a, b, c }
		}
	}'
}

# chain FILE: the networks of FILE as "net A or net B ...".
chain() { awk '{ printf "%snet %s", (NR > 1 ? " or " : ""), $1 }' "$1"; }

# cpu_of PID: the CPU time of a live process's threads in seconds
# (schedstat, nanoseconds).
cpu_of() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%.3f", s / 1e9 }'; }

source "$BENCH/lib.sh"
trap netns_down EXIT
NETNS_SETTLE=1 netns_up

echo "== start-up with a set of N networks (weir --xdp) and tcpdump's chain" >&2
startup="| networks | weir --xdp: ready after (s) | weir CPU until ready (s) | tcpdump -d: compile (s) | instructions | tcpdump -O -d: compile (s) | instructions |"$'\n'
startup+="|---|---|---|---|---|---|---|"$'\n'
for n in $SIZES; do
	set_file=$RESULTS/nets-$n.txt
	[ -s "$set_file" ] || networks "$n" >"$set_file"
	err=$RESULTS/weir-$n.stderr
	start=$(date +%s.%N)
	ip netns exec "$NS_CAP" "$WEIR" --xdp --set "nets=$set_file" -i "$IF_CAP" -w "$RESULTS/weir-$n.pcap" 'net @nets' 2>"$err" &
	pid=$!
	for _ in $(seq 3000); do grep -q "listening on" "$err" 2>/dev/null && break; kill -0 $pid 2>/dev/null || break; sleep 0.01; done
	ready=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	cpu=NA
	kill -0 $pid 2>/dev/null && cpu=$(cpu_of $pid)
	kill -INT $pid 2>/dev/null || true
	wait $pid || true
	grep -q "listening on" "$err" || ready="failed: $(head -c 200 "$err")"
	row="| $n | $ready | $cpu |"
	for opt in "" "-O"; do
		if [ "$n" -gt "$TCPDUMP_MAX" ]; then row+=" not tried | |"; continue; fi
		chain "$set_file" >"$RESULTS/chain-$n.txt"
		t0=$(date +%s.%N)
		if out=$(timeout "$TCPDUMP_TIMEOUT" "$TCPDUMP" $opt -d -y EN10MB -F "$RESULTS/chain-$n.txt" 2>/dev/null); then
			took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
			insns=$(printf '%s\n' "$out" | grep -c '^(')
			[ "$insns" -gt 4096 ] && insns="$insns (kernel refuses)"
			row+=" $took | $insns |"
		else
			row+=" over ${TCPDUMP_TIMEOUT} s | |"
		fi
	done
	startup+="$row"$'\n'
	echo "$row" >&2
done

netns_down # live.sh makes its own
# live CASE TEMPLATES...: one live.sh run; prints its table.
live() {
	local cs=$1 out=$RESULTS/live-$1 raw
	shift
	mkdir -p "$out"
	CASES=$cs OUTDIR=$out "$BENCH/live.sh" "$@" >&2 || echo "bench-sets: live.sh failed, see above" >&2
	raw=$(ls -td "$out"/live-*/ | head -1)raw.tsv
	[ -s "$raw" ] || die "no results in $raw"
	awk -F'\t' -v cs="$cs" '
	function median(list,   n, v, i, j, t) {
		n = split(list, v, " ")
		for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] + 0 > t + 0; j--) v[j + 1] = v[j]; v[j + 1] = t }
		return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
	{
		t = $h["tool"]; if (!(t in seen)) { seen[t] = 1; order[++n] = t }
		cpu = $h["cpu_s"] - $h["ready_cpu_s"]
		sent[t] = sent[t] " " $h["sent"]; infile[t] = infile[t] " " $h["in_file"]
		exp_[t] = exp_[t] " " $h["expected"]; gen[t] = gen[t] " " $h["gen_pps"] / 1e3
		ready[t] = ready[t] " " $h["ready_s"]
		drops[t] = drops[t] " " ($h["tool_dropped"] == "NA" ? 0 : $h["tool_dropped"])
		if ($h["sent"] > 0) per[t] = per[t] " " cpu * 1e6 / $h["sent"]
	}
	END {
		printf "| case | tool | ready (s) | offered | gen kpps | expected | in file | kernel drops | CPU s per M offered |\n|---|---|---|---|---|---|---|---|---|\n"
		for (k = 1; k <= n; k++) { t = order[k]
			printf "| %s | %s | %.2f | %d | %.0f | %d | %d | %d | %.4f |\n", cs, t, median(ready[t]), median(sent[t]), median(gen[t]), median(exp_[t]), median(infile[t]), median(drops[t]), median(per[t])
			c[t] = median(per[t]) }
		if (c["weir-xdp"] > 0 && c["tcpdump"] > 0) printf "\ntcpdump uses %.0fx the CPU of weir --xdp per offered packet\n", c["tcpdump"] / c["weir-xdp"]
	}' "$raw"
	printf '\nraw results: %s\n\n' "$raw"
}

# host_set N: the addresses of live.sh's hostsN filter, as a set file.
host_set() {
	local f=$RESULTS/live-hosts-$1.txt
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) printf "198.19.%d.%d\n", int(i / 256), i % 256 }' >"$f"
	printf '%s' "$f"
}

netns_down # live.sh makes its own
results=""
for hosts in $LIVE_TCPDUMP_HOSTS; do
	echo "== live: hosts$hosts, tcpdump -O with the chain against weir --xdp with the set" >&2
	results+=$(live "hosts$hosts" "tcpdump=$TCPDUMP -O -i {iface} -w {out} -s 0 -F {filterfile}" \
		"weir-xdp=$WEIR --xdp --set hosts=$(host_set "$hosts") -i {iface} -w {out} -s 0 'host @hosts'")$'\n'
done
for hosts in $LIVE_HOSTS; do
	hosts_filter "$hosts" >"$RESULTS/chain-live-$hosts.txt"
	status=0
	timeout "$TCPDUMP_TIMEOUT" "$TCPDUMP" -O -d -y EN10MB -F "$RESULTS/chain-live-$hosts.txt" >/dev/null 2>&1 || status=$?
	results+="tcpdump -O -d on the $hosts-host chain (live.sh's hosts$hosts): exit status $status (139: segmentation fault; 124: still compiling after ${TCPDUMP_TIMEOUT} s)"$'\n\n'
done
# weir with each start-up set (its first 200 addresses are the matching
# sources, so live.sh's hosts200 case counts the packets expected).
templates=()
for n in $SIZES; do
	templates+=("weir-xdp-$n=$WEIR --xdp --set nets=$RESULTS/nets-$n.txt -i {iface} -w {out} -s 0 'net @nets'")
done
echo "== live: weir --xdp with sets of $SIZES networks" >&2
results+=$(live hosts200 "${templates[@]}")$'\n'
printf '%s\n%s\n' "$startup" "$results"
