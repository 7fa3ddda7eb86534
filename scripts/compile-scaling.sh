#!/usr/bin/env bash
# compile-scaling.sh: how compile time grows with the number of terms of
# a "host a or host b or ..." expression.
#
#   scripts/compile-scaling.sh [WEIR]        (default ./bin/weir)
#
# Two measures: wall time (go test -bench BenchmarkCompileHosts, which cache
# and garbage collection bend on large inputs) and the instructions executed,
# counted by valgrind's callgrind with the garbage collector off: the work
# itself, the same on every run. The expression is read from a file (-F).
set -euo pipefail
weir=${1:-./bin/weir}
command -v valgrind >/dev/null || { echo "valgrind not found: apt-get install -y valgrind" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '| terms | instructions executed | ratio to previous | n log n ratio |\n|---|---|---|---|\n'
prev=0 prevn=0
for n in 100 1000 3000 10000; do
	for ((i = 1; i <= n; i++)); do printf 'host 198.18.%d.%d or ' $((i / 250)) $((i % 250 + 1)); done >"$dir/expr"
	echo 'host 198.19.0.1' >>"$dir/expr"
	GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 GOGC=off valgrind --tool=callgrind \
		--callgrind-out-file="$dir/cg.out" "$weir" -d -F "$dir/expr" >/dev/null 2>"$dir/log" || true
	count=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$dir/log")
	if ((prev > 0)); then
		ratio=$(awk -v a="$count" -v b="$prev" 'BEGIN { printf "%.1f", a / b }')
		nlogn=$(awk -v n="$n" -v p="$prevn" 'BEGIN { printf "%.1f", n * log(n) / (p * log(p)) }')
	else
		ratio=- nlogn=-
	fi
	printf '| %d | %d | %s | %s |\n' "$n" "$count" "$ratio" "$nlogn"
	prev=$count prevn=$n
done
