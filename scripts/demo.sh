#!/usr/bin/env bash
# demo.sh: weir's main job end to end, on a throwaway network.
#
#   scripts/demo.sh [WEIR_BINARY [DEMOTRAFFIC_BINARY]]   (as root; `make demo` builds both)
#
# Creates two network namespaces joined by a veth pair (198.18.0.1/30 and
# 198.18.0.2/30, fd00:beef::1/64 and fd00:beef::2/64, nothing routed
# anywhere), starts `weir -i IFACE -w FILE 'icmp or udp port 53'` on the
# receiving side, sends a small fixed mix from the other side (ICMP echo,
# UDP to ports 53 and 5353 over IPv4 and IPv6, TCP to port 80), stops the
# capture with SIGINT and prints the file with `weir -r FILE`. It checks
# that the file holds exactly the packets of the mix that match, and
# removes the namespaces, the link and the file on any exit.
#
# Environment: WEIR_DEMO_KEEP=1 keeps the capture file (its path is printed);
# WEIR_DEMO_SETTLE (0.3) is the pause in seconds between the traffic and SIGINT.
set -euo pipefail

cd "$(dirname "$0")/.."
WEIR=${1:-./bin/weir}
TRAFFIC=${2:-./bin/demotraffic}
NS_SEND=weir-demo-send
NS_CAP=weir-demo-cap
IF_SEND=wdemo0
IF_CAP=wdemo1
MAC_SEND=02:77:65:00:00:01
MAC_CAP=02:77:65:00:00:02
FILTER='icmp or udp port 53'
# What the mix holds that matches FILTER: 3 echo requests and 3 replies,
# 3 UDP datagrams to port 53 and the 3 port-unreachable errors answering
# them, 3 unreachable errors for port 5353, and 2 IPv6 datagrams to port 53.
EXPECTED=17

die() { echo "demo: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces and a capture socket): sudo make demo"
command -v ip >/dev/null || die "ip not found: apt-get install -y iproute2"
for b in "$WEIR" "$TRAFFIC"; do
	[ -x "$b" ] || die "$b is not an executable (make build, or make demo)"
done
case "$WEIR" in /*) ;; *) WEIR=$PWD/$WEIR ;; esac
case "$TRAFFIC" in /*) ;; *) TRAFFIC=$PWD/$TRAFFIC ;; esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/weir-demo.XXXXXX")
FILE=$WORK/demo.pcap
capture_pid=""
cleanup() {
	if [ -n "$capture_pid" ] && kill -0 "$capture_pid" 2>/dev/null; then
		kill -INT "$capture_pid" 2>/dev/null || true
		sleep 1
		kill -KILL "$capture_pid" 2>/dev/null || true
	fi
	ip netns del "$NS_SEND" 2>/dev/null || true # takes the veth pair with it
	ip netns del "$NS_CAP" 2>/dev/null || true
	if [ "${WEIR_DEMO_KEEP:-0}" = 1 ] && [ -s "$FILE" ]; then
		echo "capture kept in $FILE"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run NS CMD...: show and run a command inside a namespace.
run() {
	local ns=$1
	shift
	printf '\n[%s]# %s\n' "${ns#weir-demo-}" "$*"
	ip netns exec "$ns" "$@"
}

echo "== a throwaway network: $NS_SEND/$IF_SEND <-veth-> $NS_CAP/$IF_CAP"
ip netns del "$NS_SEND" 2>/dev/null || true
ip netns del "$NS_CAP" 2>/dev/null || true
ip netns add "$NS_SEND"
ip netns add "$NS_CAP"
for ns in "$NS_SEND" "$NS_CAP"; do
	# No IPv6 duplicate-address probes or router solicitations; the
	# receiver answers every datagram to a closed port at once.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.default.router_solicitations=0 \
		net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 net.ipv4.ip_forward=0
done
ip link add "$IF_SEND" netns "$NS_SEND" address "$MAC_SEND" type veth peer name "$IF_CAP" netns "$NS_CAP" address "$MAC_CAP"
ip -n "$NS_SEND" addr add 198.18.0.1/30 dev "$IF_SEND"
ip -n "$NS_CAP" addr add 198.18.0.2/30 dev "$IF_CAP"
ip -n "$NS_SEND" -6 addr add fd00:beef::1/64 dev "$IF_SEND" nodad
ip -n "$NS_CAP" -6 addr add fd00:beef::2/64 dev "$IF_CAP" nodad
for ns in "$NS_SEND" "$NS_CAP"; do ip -n "$ns" link set lo up; done
ip -n "$NS_SEND" link set "$IF_SEND" up
ip -n "$NS_CAP" link set "$IF_CAP" up
# Fixed neighbours: no ARP or neighbour discovery in the mix.
ip -n "$NS_SEND" neigh replace 198.18.0.2 lladdr "$MAC_CAP" dev "$IF_SEND" nud permanent
ip -n "$NS_SEND" neigh replace fd00:beef::2 lladdr "$MAC_CAP" dev "$IF_SEND" nud permanent
ip -n "$NS_CAP" neigh replace 198.18.0.1 lladdr "$MAC_SEND" dev "$IF_CAP" nud permanent
ip -n "$NS_CAP" neigh replace fd00:beef::1 lladdr "$MAC_SEND" dev "$IF_CAP" nud permanent

# The veth's carrier comes up a moment after the link.
for _ in $(seq 50); do # at most 5 s
	ip -n "$NS_CAP" link show "$IF_CAP" | grep -q LOWER_UP && break
	sleep 0.1
done

run "$NS_CAP" "$WEIR" -D

echo
echo "== capture on $IF_CAP, keeping '$FILTER'"
printf '[cap]# %s -i %s -w %s %q &\n' "$WEIR" "$IF_CAP" "$FILE" "$FILTER"
ip netns exec "$NS_CAP" "$WEIR" -i "$IF_CAP" -w "$FILE" "$FILTER" 2>"$WORK/capture.err" &
capture_pid=$!
for _ in $(seq 100); do # at most 10 s
	grep -q "listening on" "$WORK/capture.err" 2>/dev/null && break
	kill -0 "$capture_pid" 2>/dev/null || break
	sleep 0.1
done
grep -q "listening on" "$WORK/capture.err" || { cat "$WORK/capture.err" >&2; die "weir did not start listening"; }
cat "$WORK/capture.err"

run "$NS_SEND" "$TRAFFIC" -to4 198.18.0.2 -to6 fd00:beef::2

sleep "${WEIR_DEMO_SETTLE:-0.3}" # the capture drains its ring when stopped
echo
echo "[cap]# kill -INT $capture_pid"
kill -INT "$capture_pid"
status=0
wait "$capture_pid" || status=$?
capture_pid=""
tail -n +2 "$WORK/capture.err"
[ "$status" = 0 ] || die "weir exited with status $status"

echo
echo "== what was kept"
run "$NS_CAP" "$WEIR" -r "$FILE"
kept=$("$WEIR" -r "$FILE" --count 2>/dev/null | awk '{print $1}')
echo
if [ "$kept" != "$EXPECTED" ]; then
	die "the file holds $kept packets, the mix has $EXPECTED that match '$FILTER'"
fi
echo "demo: ok, $kept packets kept of the mix, all matching '$FILTER'"
