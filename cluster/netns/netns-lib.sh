# shellcheck shell=bash
# Emulated hosts on one machine, for the multi-host test and the link benchmark (sourced, not run).
#
# Host i (1..4) is the network namespace srg-h<i>, with eth0 = 10.77.0.<i>/24, the far end of a
# veth pair whose near end (srg-h<i>-br) is enslaved to the bridge srg-br0 in the root namespace
# (10.77.0.254/24, where mpirun runs). Every object made is recorded in $NETNS_MADE, and
# netns_down removes exactly those (also when the caller fails: install it in a trap).
# Links can be shaped with tc tbf (both directions: eth0 inside the host is what it sends, the
# bridge port is what it receives), and delayed with netem when the kernel has it.

NETNS_PREFIX=srg-h
NETNS_BRIDGE=srg-br0
NETNS_NET=10.77.0
NETNS_CIDR=10.77.0.0/24
NETNS_MADE=()

netns_fail() {
    echo "error: $1" >&2
    exit 1
}

# Refuses when emulated hosts from an earlier run are still there (a crash, or --keep).
netns_check_clean() {
    local leftovers
    leftovers=$( { ip netns list | awk '{print $1}' | grep "^${NETNS_PREFIX}[0-9]" || true; \
                   ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^(${NETNS_BRIDGE}|${NETNS_PREFIX}[0-9]-br)$" || true; } | tr '\n' ' ')
    if [ -n "$leftovers" ]; then
        netns_fail "emulated hosts from an earlier run are still present: ${leftovers}HINT: remove them with: $(dirname "${BASH_SOURCE[0]}")/multihost-test.sh --cleanup"
    fi
    if ip -4 -o addr show | awk '{print $4}' | grep -q "^${NETNS_NET}\."; then
        netns_fail "the address range ${NETNS_CIDR} is already used on this machine ($(ip -4 -o addr show | awk '$4 ~ /^'"${NETNS_NET//./\\.}"'\./ {print $2}' | tr '\n' ' ')). HINT: free it; the emulated hosts need it"
    fi
}

# netns_up N: the bridge and hosts 1..N.
netns_up() {
    local count=$1 i
    ip link add "$NETNS_BRIDGE" type bridge || netns_fail "cannot create the bridge $NETNS_BRIDGE. HINT: the kernel needs bridge support (CONFIG_BRIDGE)"
    NETNS_MADE+=("link:$NETNS_BRIDGE")
    ip addr add "${NETNS_NET}.254/24" dev "$NETNS_BRIDGE"
    ip link set "$NETNS_BRIDGE" up
    for i in $(seq 1 "$count"); do
        local namespace="${NETNS_PREFIX}${i}" near="${NETNS_PREFIX}${i}-br" far="${NETNS_PREFIX}${i}-ns"
        ip netns add "$namespace" || netns_fail "cannot create the network namespace $namespace. HINT: run as root on a kernel with network namespaces"
        NETNS_MADE+=("netns:$namespace")
        ip link add "$near" type veth peer name "$far" || netns_fail "cannot create the veth pair $near/$far. HINT: the kernel needs veth support (CONFIG_VETH)"
        NETNS_MADE+=("link:$near")
        ip link set "$far" netns "$namespace"
        ip -n "$namespace" link set "$far" name eth0
        ip -n "$namespace" addr add "${NETNS_NET}.${i}/24" dev eth0
        ip -n "$namespace" link set lo up
        ip -n "$namespace" link set eth0 up
        ip link set "$near" master "$NETNS_BRIDGE"
        ip link set "$near" up
    done
    # The bridge forwards at once (no learning delay) and is not filtered by a host firewall.
    ip link set "$NETNS_BRIDGE" type bridge forward_delay 0 2>/dev/null || true
    for i in $(seq 1 "$count"); do
        local tries=0
        until netns_reaches "${NETNS_PREFIX}${i}" "${NETNS_NET}.254"; do
            tries=$((tries + 1))
            [ "$tries" -lt 10 ] || netns_fail "host ${NETNS_NET}.${i} cannot reach the bridge ${NETNS_NET}.254. HINT: a firewall may drop bridged traffic (check 'nft list ruleset' / 'iptables -S FORWARD')"
            sleep 0.5
        done
    done
}

# netns_reaches NAMESPACE ADDRESS: 0 when a TCP connection attempt from the namespace gets an
# answer (accepted or refused) from ADDRESS within 2 s; needs no ping binary.
netns_reaches() {
    local answer
    answer=$(ip netns exec "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/9" 2>&1) && return 0
    case "$answer" in *refused*) return 0 ;; *) return 1 ;; esac
}

# netns_down: removes what netns_up made, newest first; never fails.
netns_down() {
    local index item
    for ((index = ${#NETNS_MADE[@]} - 1; index >= 0; index--)); do
        item=${NETNS_MADE[$index]}
        case "$item" in
            netns:*) ip netns pids "${item#netns:}" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
                     ip netns del "${item#netns:}" 2>/dev/null || true ;;
            link:*) ip link del "${item#link:}" 2>/dev/null || true ;;
        esac
    done
    NETNS_MADE=()
}

# netns_remove_leftovers: what an earlier run left behind, found by name.
netns_remove_leftovers() {
    local name
    for name in $(ip netns list | awk '{print $1}' | grep "^${NETNS_PREFIX}[0-9]" || true); do
        ip netns pids "$name" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip netns del "$name" && echo "removed network namespace $name (and its veth pair)"
    done
    for name in $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^(${NETNS_BRIDGE}|${NETNS_PREFIX}[0-9]-br)$" || true); do
        if ip link del "$name" 2>/dev/null; then echo "removed link $name"; fi
    done
}

# netns_hostfile N FILE: hosts 1..N by address, one slot each.
netns_hostfile() {
    local count=$1 file=$2 i
    : >"$file"
    for i in $(seq 1 "$count"); do echo "${NETNS_NET}.${i} slots=1" >>"$file"; done
}

# netns_shape N RATE: token-bucket shaping of every host's link to RATE (tc syntax: 1gbit,
# 10gbit), both directions; "none" removes it. The bucket holds 1 ms at the rate (at least 64 kB)
# and the queue 10 ms more, like a switch port's buffer.
netns_shape() {
    local count=$1 rate=$2 i bits burst limit
    for i in $(seq 1 "$count"); do
        local namespace="${NETNS_PREFIX}${i}" near="${NETNS_PREFIX}${i}-br"
        if [ "$rate" = "none" ]; then
            tc qdisc del dev "$near" root 2>/dev/null || true
            ip netns exec "$namespace" tc qdisc del dev eth0 root 2>/dev/null || true
            continue
        fi
        bits=$(netns_rate_bits "$rate")
        burst=$((bits / 8 / 1000)); [ "$burst" -ge 65536 ] || burst=65536
        limit=$((bits / 8 / 100 + burst))
        tc qdisc replace dev "$near" root handle 1: tbf rate "$rate" burst "$burst" limit "$limit" \
            || netns_fail "tc tbf failed on $near. HINT: the kernel needs the tbf qdisc (CONFIG_NET_SCH_TBF)"
        ip netns exec "$namespace" tc qdisc replace dev eth0 root handle 1: tbf rate "$rate" burst "$burst" limit "$limit"
    done
}

# netns_delay N DELAY: netem latency on every host's outgoing link (e.g. 100us), under the tbf
# shaper when there is one; returns 1 when the kernel has no netem.
netns_delay() {
    local count=$1 delay=$2 i parent
    for i in $(seq 1 "$count"); do
        parent="root"
        if ip netns exec "${NETNS_PREFIX}${i}" tc qdisc show dev eth0 | grep -q '^qdisc tbf 1:'; then parent="parent 1:1"; fi
        # shellcheck disable=SC2086
        ip netns exec "${NETNS_PREFIX}${i}" tc qdisc replace dev eth0 $parent handle 20: netem delay "$delay" 2>/dev/null || return 1
    done
}

# netns_has_netem: 0 when the netem qdisc can be created (tried on a throw-away veth pair).
netns_has_netem() {
    local ok=1
    ip link add srg-probe0 type veth peer name srg-probe1 2>/dev/null || return 1
    if tc qdisc add dev srg-probe0 root netem delay 1ms 2>/dev/null; then ok=0; fi
    ip link del srg-probe0 2>/dev/null || true
    return $ok
}

# 1gbit -> 1000000000
netns_rate_bits() {
    local rate=$1 number unit
    number=$(printf '%s' "$rate" | sed -E 's/^([0-9]+).*/\1/')
    unit=$(printf '%s' "$rate" | sed -E 's/^[0-9]+//' | tr '[:upper:]' '[:lower:]')
    case "$unit" in
        gbit) echo $((number * 1000000000)) ;;
        mbit) echo $((number * 1000000)) ;;
        kbit) echo $((number * 1000)) ;;
        bit|"") echo "$number" ;;
        *) netns_fail "rate '$rate' is not a link rate. HINT: use a number and gbit, mbit or kbit (e.g. 10gbit)" ;;
    esac
}
