#!/usr/bin/env bash
# bench-xdp.sh: live capture backends against tcpdump, on one veth pair.
#
#   scripts/bench-xdp.sh [WEIR_BINARY]        (as root; default ./bin/weir)
#
# Runs the shared live benchmark (../shared/bench/live.sh: two network
# namespaces joined by a veth pair, a generator flat out on CPU 0, the
# capture pinned to CPU 1) once per matching fraction in MATCHES, each run
# interleaving, on the same veth and generator:
#   tcpdump     AF_PACKET + classic BPF (libpcap)
#   weir        AF_PACKET + classic BPF
#   weir-ebpf   AF_PACKET + eBPF socket filter (--ebpf)
#   weir-xdp    XDP program + BPF ring buffer (--xdp)
#   weir-tc     tcx programs + BPF ring buffer (--tc)
# (and, when named in TOOLS, weir-xdp-generic: --xdp-mode generic)
# with the filter 'udp port 5353', which exactly the matching fraction of
# the generator's packets pass. It prints per (matching, tool) the medians
# of: packets offered, generator rate, packets in the file, kernel drops,
# the capture's CPU seconds per million offered packets, and the
# nanoseconds the sending core spends per packet (1e9 / generator rate:
# a veth runs the receive path, and so XDP, tc and socket filters, on the
# sender's core, flat out; that cost shows there, not in the tool's CPU).
# The tool's CPU leaves out its start-up, as live.sh reads it at the
# "listening on" line: in 10 ms ticks, rounded down, and once more to the
# nanosecond by scripts/ready-cpu.sh ("start-up exact").
#
# Environment: BENCH=../shared/bench, MATCHES="0.01 0.5", REPS=3,
# N=2000000, TOOLS="tcpdump weir weir-ebpf weir-xdp weir-tc",
# RESULTS=${TMPDIR:-/tmp}/weir-bench/xdp, TCPDUMP=tcpdump. Other live.sh
# knobs (SIZE, GEN, GEN_RATE) pass through.
set -euo pipefail

cd "$(dirname "$0")/.."
WEIR=${1:-./bin/weir}
BENCH=${BENCH:-../shared/bench}
TCPDUMP=${TCPDUMP:-tcpdump}
RESULTS=${RESULTS:-${TMPDIR:-/tmp}/weir-bench/xdp}
MATCHES=${MATCHES:-"0.01 0.5"}
TOOLS=${TOOLS:-"tcpdump weir weir-ebpf weir-xdp weir-tc"}
export CASES=udp5353
# Namespaces of our own, so that a run of live.sh by someone else on the
# machine does not share our veth (the CPUs it shares: check uptime).
export NS_GEN=${NS_GEN:-wx-gen} NS_CAP=${NS_CAP:-wx-cap}
export REPS=${REPS:-3}
export N=${N:-2000000}

die() { echo "bench-xdp: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, eBPF programs)"
[ -x "$BENCH/live.sh" ] || die "$BENCH/live.sh not found (set BENCH)"
command -v "$TCPDUMP" >/dev/null || die "$TCPDUMP not found (apt-get install -y tcpdump)"
command -v capinfos >/dev/null || die "capinfos not found (apt-get install -y tshark)"
[ -x "$WEIR" ] || die "$WEIR is not an executable (make build)"
case "$WEIR" in /*) ;; *) WEIR=$PWD/$WEIR ;; esac

# template TOOL: the live.sh template of a tool.
template() {
	case "$1" in
	tcpdump) echo "tcpdump=$TCPDUMP -i {iface} -w {out} -s 0 {filter}" ;;
	weir) echo "weir=$WEIR -i {iface} -w {out} -s 0 {filter}" ;;
	weir-ebpf) echo "weir-ebpf=$WEIR --ebpf -i {iface} -w {out} -s 0 {filter}" ;;
	weir-xdp) echo "weir-xdp=$WEIR --xdp -i {iface} -w {out} -s 0 {filter}" ;;
	weir-xdp-generic) echo "weir-xdp-generic=$WEIR --xdp --xdp-mode generic -i {iface} -w {out} -s 0 {filter}" ;;
	weir-tc) echo "weir-tc=$WEIR --tc -i {iface} -w {out} -s 0 {filter}" ;;
	*) die "unknown tool $1" ;;
	esac
}

# table RAW MATCH: one row per tool of medians.
table() {
	awk -F'\t' -v match_frac="$2" -v run="$(dirname "$1")" '
	function median(list,   n, v, i, j, t) {
		n = split(list, v, " ")
		for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] + 0 > t + 0; j--) v[j + 1] = v[j]; v[j + 1] = t }
		if (n == 0) return "NA"
		return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	# exact_cpu TAG CPU: CPU less the start-up that ready-cpu.sh measured.
	function exact_cpu(tag, cpu,   f, r) {
		f = run "/" tag ".readycpu"; r = "NA"
		if ((getline r < f) <= 0) r = "NA"
		close(f)
		return r == "NA" ? "NA" : cpu - r
	}
	NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
	{
		key = $h["tool"]
		if (!(key in seen)) { seen[key] = 1; order[++n] = key }
		cpu = $h["cpu_s"] - $h["ready_cpu_s"]
		sent[key] = sent[key] " " $h["sent"]
		expected[key] = expected[key] " " $h["expected"]
		gen[key] = gen[key] " " $h["gen_pps"] / 1e3
		infile[key] = infile[key] " " $h["in_file"]
		drops[key] = drops[key] " " ($h["tool_dropped"] == "NA" ? 0 : $h["tool_dropped"])
		if ($h["sent"] > 0) persent[key] = persent[key] " " cpu * 1e6 / $h["sent"]
		exact = exact_cpu($h["case"] "." $h["tool"] "." $h["rep"], $h["cpu_s"])
		if (exact != "NA" && $h["sent"] > 0) persentx[key] = persentx[key] " " exact * 1e6 / $h["sent"]
		if ($h["gen_pps"] > 0) sender[key] = sender[key] " " 1e9 / $h["gen_pps"]
	}
	END {
		printf "| matching | tool | offered | gen kpps | sender ns per packet | expected | in file | kernel drops | tool CPU s per M offered | same, start-up exact |\n"
		printf "|---|---|---|---|---|---|---|---|---|---|\n"
		for (k = 1; k <= n; k++) {
			t = order[k]
			printf "| %s | %s | %d | %.0f | %.0f | %d | %d | %d | %.4f | %.4f |\n", match_frac, t,
				median(sent[t]), median(gen[t]), median(sender[t]), median(expected[t]), median(infile[t]),
				median(drops[t]), median(persent[t]), median(persentx[t])
			c[t] = median(persent[t])
			cx[t] = median(persentx[t])
		}
		for (k = 1; k <= n; k++) if (order[k] != "tcpdump" && c["tcpdump"] > 0)
			printf "%s tool CPU per offered packet at %s matching: %.2fx tcpdump'\''s (start-up exact: %.2fx)\n", order[k], match_frac,
				c[order[k]] / c["tcpdump"], (cx["tcpdump"] > 0 ? cx[order[k]] / cx["tcpdump"] : 0)
	}' "$1"
}

if pgrep -f "$BENCH/live.sh" >/dev/null || pgrep -f "shared/bench/live.sh" >/dev/null; then
	echo "bench-xdp: WARNING: another live.sh is running: the figures will be disturbed" >&2
fi
templates=()
for t in $TOOLS; do templates+=("$(template "$t")"); done
echo "== load before: $(uptime)" >&2
summary=""
for m in $MATCHES; do
	out=$RESULTS/match-$m
	mkdir -p "$out"
	echo "== live capture backends, udp port 5353 matching $m: $REPS runs of $N packets each" >&2
	scripts/ready-cpu.sh "$out" &
	watcher=$!
	MATCH=$m OUTDIR=$out "$BENCH/live.sh" "${templates[@]}" >&2 || echo "bench-xdp: live.sh failed, see above" >&2
	kill "$watcher" 2>/dev/null || true
	wait "$watcher" 2>/dev/null || true
	raw=$(ls -td "$out"/live-*/ | head -1)raw.tsv
	[ -s "$raw" ] || die "no results in $raw"
	summary+="$(table "$raw" "$m")"$'\n\n'
	summary+="raw results: $raw"$'\n\n'
done
echo "== load after: $(uptime)" >&2
printf '%s' "$summary"
