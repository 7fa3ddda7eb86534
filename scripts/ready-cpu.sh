#!/usr/bin/env bash
# ready-cpu.sh DIR: exact start-up CPU of the tools the shared live
# benchmark runs, for bench-live.sh and bench-xdp.sh.
#
# The shared live.sh subtracts a tool's CPU at its "listening on" line
# (ready_cpu_s) from its CPU at exit, so that start-up does not count; but
# it reads that from /proc/PID/stat, in 10 ms clock ticks, rounded down.
# With 1% of the packets matching, a whole run costs a tool about 10 ms,
# so the rounding decides the figure. This watcher, run beside live.sh
# with live.sh's OUTDIR, notices each TAG.ready that live.sh's runner
# writes, finds the tool (the runner's child) and writes the CPU seconds it
# has used so far, summed over its threads from /proc/PID/task/*/schedstat
# (nanoseconds), to TAG.readycpu. It does so within milliseconds, while
# live.sh still waits its READY_SETTLE (0.5 s) before sending; if the
# generator already runs it writes NA instead. Runs until killed.
set -u
dir=$1

exec 9<> <(:) # read -t on a pipe that never delivers: a sleep without a fork
nap() { read -r -t "$1" -u 9 _ || true; }

# cpu_ns PID: nanoseconds of CPU used by PID's live threads.
cpu_ns() {
	local sum=0 f ns rest
	for f in /proc/"$1"/task/*/schedstat; do
		read -r ns rest <"$f" 2>/dev/null || continue
		sum=$((sum + ns))
	done
	echo "$sum"
}

# record READY: writes TAG.readycpu for the run whose ready file is READY.
record() {
	local ready=$1 out=${1%.ready}.readycpu runner tool ns
	runner=$(pgrep -f -- "-ready-file $ready" | head -1)
	tool=""
	[ -n "$runner" ] && tool=$(pgrep -P "$runner" | head -1)
	ns=""
	[ -n "$tool" ] && ns=$(cpu_ns "$tool")
	if [ -z "$ns" ] || [ "$ns" = 0 ] || pgrep -f "pcbench send" >/dev/null; then
		echo NA >"$out"
		return
	fi
	awk -v ns="$ns" 'BEGIN { printf "%.9f\n", ns / 1e9 }' >"$out"
}

while :; do
	# live.sh names its run folders by the time: the last is the current.
	run=""
	for d in "$dir"/live-*/; do [ -d "$d" ] && run=$d; done
	starting=0
	if [ -n "$run" ]; then
		for ready in "$run"*.ready; do
			[ -e "$ready" ] || continue
			[ -e "${ready%.ready}.readycpu" ] || record "$ready"
		done
		# A run that has begun (its stderr exists) and is not ready yet:
		# look often. Otherwise now and then.
		for errlog in "$run"*.stderr; do
			[ -e "$errlog" ] || continue
			[ -e "${errlog%.stderr}.ready" ] || starting=1
		done
	fi
	if [ $starting = 1 ]; then nap 0.002; else nap 0.02; fi
done
