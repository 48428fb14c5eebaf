#!/usr/bin/env bash
# A stand-in for ssh that Open MPI uses to start its daemons on emulated hosts (plm_rsh_agent).
# Open MPI calls it as ssh would be called:  netns-agent.sh HOST WORD...
# HOST is an address such as 10.77.0.2; the command runs inside the network namespace that holds
# that address (ip netns exec), through /bin/sh -c with the words joined by spaces, which is what
# sshd does with a remote command. Every emulated host gets its own host name (srg-h2, ...) in a
# private UTS namespace, so Open MPI sees distinct nodes.
#
#   mpirun --mca plm_rsh_agent /path/to/netns-agent.sh --hostfile HOSTS ...
#   netns-agent.sh 10.77.0.2 hostname        # by hand: prints srg-h2
set -euo pipefail

usage() {
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
}

if [ $# -ge 1 ] && { [ "$1" = "--help" ] || [ "$1" = "-h" ]; }; then usage; exit 0; fi
# Tolerate ssh-style options placed before the host (plm_rsh_args): drop them.
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do
    case "$1" in
        -o|-p|-l|-i|-F) shift 2 ;;
        *) shift ;;
    esac
done
if [ $# -lt 2 ]; then
    echo "netns-agent: error: expected HOST COMMAND..., got: $*. HINT: run it as Open MPI's plm_rsh_agent, or by hand as: netns-agent.sh 10.77.0.1 hostname" >&2
    exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "netns-agent: error: 'ip netns exec' needs root. HINT: run mpirun as root (with --allow-run-as-root)" >&2
    exit 2
fi

host="$1"; shift
host="${host#*@}"  # user@host, as ssh accepts

# The namespace whose interfaces hold this IPv4 address.
namespace=""
for candidate in $(ip netns list | awk '{print $1}'); do
    if ip -n "$candidate" -4 -o addr show 2>/dev/null | awk '{print $4}' | grep -qx "$host/[0-9]*"; then
        namespace="$candidate"
        break
    fi
done
if [ -z "$namespace" ]; then
    echo "netns-agent: error: no network namespace holds the address $host. HINT: create the emulated hosts first (cluster/netns/multihost-test.sh --keep, or --setup N), and name hosts by address in the hostfile" >&2
    exit 255  # what ssh returns when it cannot reach the host
fi

# unshare --uts: a host name of its own, visible only to this command and its children.
exec ip netns exec "$namespace" unshare --uts /bin/sh -c 'hostname "$1" && shift && exec /bin/sh -c "$*"' netns-agent "$namespace" "$*"
