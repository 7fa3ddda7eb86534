#!/usr/bin/env bash
# bench-live.sh: live capture, weir against tcpdump, on a veth pair.
#
#   scripts/bench-live.sh [WEIR_BINARY]        (as root; default ./bin/weir)
#
# Runs the shared live benchmark (../shared/bench/live.sh: two network
# namespaces joined by a veth pair, a generator flat out on CPU 0, the
# capture pinned to CPU 1, SIGINT 2 s after the last packet) with tcpdump
# and weir interleaved in the same invocation, once per ring size in
# BUFFERS, for the cases
#   none      no filter: every packet is written
#   udp5353   'udp port 5353', 1% of the packets match
#   hosts200  200 'host' terms joined by 'or', 1% match
# and prints per case and tool the medians of: packets in the file, kernel
# drops (the tool's "dropped by kernel"), capture CPU seconds (user+sys,
# after the "listening on" line) per million packets captured and per
# million sent, and peak RSS; then weir's CPU as a fraction of tcpdump's.
# live.sh reads the start-up CPU in 10 ms ticks, rounded down, which at 1%
# matching is as much as a whole run costs; so the table also gives the
# CPU per captured packet with start-up measured to the nanosecond by
# scripts/ready-cpu.sh ("start-up exact").
#
# Environment: BENCH=../shared/bench, CASES="none udp5353 hosts200",
# REPS=3, N=2000000 packets per run, BUFFERS="default 65536" (-B in KiB;
# "default" passes no -B), RESULTS=${TMPDIR:-/tmp}/weir-bench/live,
# TCPDUMP=tcpdump, OTHER_WEIR (a second weir binary, say an earlier build,
# run interleaved as "weir-other"). Other live.sh knobs (SIZE, MATCH, GEN,
# GEN_RATE, QUIET_MAX) pass through.
set -euo pipefail

cd "$(dirname "$0")/.."
WEIR=${1:-./bin/weir}
BENCH=${BENCH:-../shared/bench}
TCPDUMP=${TCPDUMP:-tcpdump}
RESULTS=${RESULTS:-${TMPDIR:-/tmp}/weir-bench/live}
export CASES=${CASES:-"none udp5353 hosts200"}
export REPS=${REPS:-3}
export N=${N:-2000000}
BUFFERS=${BUFFERS:-"default 65536"}

die() { echo "bench-live: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, capture sockets)"
[ -x "$BENCH/live.sh" ] || die "$BENCH/live.sh not found (set BENCH)"
command -v "$TCPDUMP" >/dev/null || die "$TCPDUMP not found (apt-get install -y tcpdump)"
command -v capinfos >/dev/null || die "capinfos not found (apt-get install -y tshark)"
[ -x "$WEIR" ] || die "$WEIR is not an executable (make build)"
case "$WEIR" in /*) ;; *) WEIR=$PWD/$WEIR ;; esac

# table RAW BUFFER: one row per (case, tool) of medians, then the ratios.
table() {
	awk -F'\t' -v buffer="$2" -v run="$(dirname "$1")" '
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
		key = $h["case"] SUBSEP $h["tool"]
		if (!(key in seen)) { seen[key] = 1; order[++n] = key }
		cpu = $h["cpu_s"] - $h["ready_cpu_s"]
		exact = exact_cpu($h["case"] "." $h["tool"] "." $h["rep"], $h["cpu_s"])
		if (exact != "NA" && $h["in_file"] > 0) percapx[key] = percapx[key] " " exact * 1e6 / $h["in_file"]
		sent[key] = sent[key] " " $h["sent"]
		infile[key] = infile[key] " " $h["in_file"]
		drops[key] = drops[key] " " ($h["tool_dropped"] == "NA" ? 0 : $h["tool_dropped"])
		if ($h["in_file"] > 0) percap[key] = percap[key] " " cpu * 1e6 / $h["in_file"]
		if ($h["sent"] > 0) persent[key] = persent[key] " " cpu * 1e6 / $h["sent"]
		rss[key] = rss[key] " " $h["maxrss_kb"] / 1024
		gen[key] = gen[key] " " $h["gen_pps"] / 1e6
	}
	END {
		printf "| case | -B | tool | sent | gen Mpps | in file | kernel drops | CPU s per M captured | same, start-up exact | CPU s per M sent | peak RSS MiB |\n"
		printf "|---|---|---|---|---|---|---|---|---|---|---|\n"
		for (k = 1; k <= n; k++) {
			split(order[k], p, SUBSEP)
			printf "| %s | %s | %s | %d | %.2f | %d | %d | %.3f | %.3f | %.4f | %.1f |\n", p[1], buffer, p[2],
				median(sent[order[k]]), median(gen[order[k]]), median(infile[order[k]]), median(drops[order[k]]),
				median(percap[order[k]]), median(percapx[order[k]]), median(persent[order[k]]), median(rss[order[k]])
			c[p[1], p[2]] = median(percap[order[k]])
			cx[p[1], p[2]] = median(percapx[order[k]])
			cases[p[1]] = 1
			if (p[2] != "tcpdump") tools[p[2]] = 1
		}
		for (cs in cases) for (tool in tools) if (c[cs, "tcpdump"] > 0 && ((cs, tool) in c))
			printf "%s CPU per captured packet, -B %s, %s: %.2fx tcpdump'\''s (start-up exact: %.2fx)\n", tool, buffer, cs,
				c[cs, tool] / c[cs, "tcpdump"], (cx[cs, "tcpdump"] > 0 ? cx[cs, tool] / cx[cs, "tcpdump"] : 0)
	}' "$1"
}

summary=""
for buffer in $BUFFERS; do
	opt=""
	[ "$buffer" = default ] || opt="-B $buffer"
	out=$RESULTS/B-$buffer
	mkdir -p "$out"
	echo "== live capture, -B $buffer: $CASES, $REPS runs of $N packets each" >&2
	tools=("tcpdump=$TCPDUMP -i {iface} -w {out} -s 0 $opt {filter}"
		"weir=$WEIR -i {iface} -w {out} -s 0 $opt {filter}")
	[ -z "${OTHER_WEIR:-}" ] || tools+=("weir-other=$OTHER_WEIR -i {iface} -w {out} -s 0 $opt {filter}")
	# live.sh stops at a run whose tool fails; the runs before it still count.
	scripts/ready-cpu.sh "$out" &
	watcher=$!
	OUTDIR=$out "$BENCH/live.sh" "${tools[@]}" >&2 || echo "bench-live: live.sh failed, see above" >&2
	kill "$watcher" 2>/dev/null || true
	wait "$watcher" 2>/dev/null || true
	raw=$(ls -td "$out"/live-*/ | head -1)raw.tsv
	[ -s "$raw" ] || die "no results in $raw"
	summary+="$(table "$raw" "$buffer")"$'\n\n'
	summary+="raw results: $raw"$'\n\n'
done
printf '%s' "$summary"
