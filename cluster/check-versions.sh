#!/usr/bin/env bash
# Checks that every host of a hostfile runs the same srgan-dist binary, the same Open MPI and the
# same OpenBLAS package, since ranks that differ in any of them may compute different numbers
# (replicas drift apart) or fail to talk to each other. Exits 1, naming what differs, if they do.
#
# Usage: cluster/check-versions.sh [options] HOSTFILE
#
#   --bin PATH      the srgan-dist binary to check on each host (default: /usr/local/bin/srgan-dist
#                   when it exists here, else this repository's .build/release/srgan-dist; the
#                   path must be the same on every host, as mpirun uses it)
#   --agent CMD     how to run a command on a host, called as: CMD HOST COMMAND (default:
#                   "ssh -o BatchMode=yes -o ConnectTimeout=10"); for the emulated hosts of
#                   cluster/netns: --agent cluster/netns/netns-agent.sh
#   -h, --help      this text
#
# HOSTFILE is Open MPI's format (cluster/hostfile.example): the first word of each line that is
# not blank or a comment is a host.
set -euo pipefail
me=check-versions.sh
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
fail() { echo "$me: error: $1. HINT: $2" >&2; exit 2; }

binary="" agent="ssh -o BatchMode=yes -o ConnectTimeout=10" hostfile=""
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --bin) [ $# -ge 2 ] || fail "--bin needs a path" "e.g. --bin /usr/local/bin/srgan-dist"; binary=$2; shift 2 ;;
        --agent) [ $# -ge 2 ] || fail "--agent needs a command" "e.g. --agent cluster/netns/netns-agent.sh"; agent=$2; shift 2 ;;
        -*) fail "unknown option '$1'" "see $0 --help" ;;
        *) [ -z "$hostfile" ] || fail "one hostfile only (got '$hostfile' and '$1')" "see $0 --help"; hostfile=$1; shift ;;
    esac
done
[ -n "$hostfile" ] || fail "no hostfile given" "usage: $0 [--bin PATH] [--agent CMD] HOSTFILE"
[ -r "$hostfile" ] || fail "cannot read the hostfile $hostfile" "see cluster/hostfile.example"
if [ -z "$binary" ]; then
    if [ -x /usr/local/bin/srgan-dist ]; then binary=/usr/local/bin/srgan-dist; else binary="$repo/.build/release/srgan-dist"; fi
fi
read -r -a agent_words <<<"$agent"

mapfile -t hosts < <(sed -e 's/#.*//' "$hostfile" | awk 'NF {print $1}')
[ ${#hosts[@]} -gt 0 ] || fail "the hostfile $hostfile names no host" "one host per line, e.g. 'node01 slots=32'"

# What each host reports: one line "sha256|openmpi|openblas|missing libraries". The binary path is
# passed as an argument, quoted for the remote shell.
# shellcheck disable=SC2016  # expanded by the remote shell
probe='b=$1
if [ -x "$b" ]; then s=$(sha256sum "$b" | cut -d" " -f1); l=$(ldd "$b" 2>/dev/null | awk "/not found/ {print \$1}" | tr "\n" " "); else s="missing"; l=""; fi
m=$(mpirun --version 2>/dev/null | head -n 1 | awk "{print \$NF}"); [ -n "$m" ] || m="missing"
o=$(dpkg-query -W -f="\${db:Status-Abbrev} \${Package} \${Version}\n" "libopenblas0*" 2>/dev/null | awk "\$1 == \"ii\" && \$2 != \"libopenblas0\" {print \$2 \" \" \$3}" | sort | tr "\n" " ")
[ -n "$o" ] || o="missing"
printf "%s|%s|%s|%s\n" "$s" "$m" "$o" "$l"'
# Quoted for any POSIX shell (the remote login shell may be dash): '...' with ' as '\''.
shell_quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
quoted_probe=$(shell_quote "$probe")
quoted_binary=$(shell_quote "$binary")

declare -a checksums openmpis openblases libraries
status=0
printf '%-20s %-18s %-10s %-36s\n' host "srgan-dist sha256" "Open MPI" "OpenBLAS"
for index in "${!hosts[@]}"; do
    host=${hosts[$index]}
    if ! answer=$("${agent_words[@]}" "$host" "sh -c $quoted_probe probe $quoted_binary" </dev/null 2>/tmp/check-versions.$$.err); then
        echo "$me: error: cannot run a command on $host: $(tail -n 1 /tmp/check-versions.$$.err). HINT: check that '${agent} $host true' works (ssh keys, host name, the host is up)" >&2
        rm -f /tmp/check-versions.$$.err
        exit 1
    fi
    rm -f /tmp/check-versions.$$.err
    answer=$(printf '%s\n' "$answer" | tail -n 1)
    IFS='|' read -r "checksums[$index]" "openmpis[$index]" "openblases[$index]" "libraries[$index]" <<<"$answer"
    printf '%-20s %-18s %-10s %-36s\n' "$host" "${checksums[$index]:0:16}" "${openmpis[$index]}" "${openblases[$index]}"
    if [ "${checksums[$index]}" = missing ]; then
        echo "$me: error: $host has no executable $binary. HINT: install it there with cluster/prepare-node.sh --binary ... (the same path on every host)" >&2
        status=1
    elif [ -n "${libraries[$index]// /}" ]; then
        echo "$me: error: $binary cannot start on $host: missing ${libraries[$index]}. HINT: run cluster/prepare-node.sh there (a binary copied from elsewhere needs --build --static on the build machine)" >&2
        status=1
    fi
    [ "${openmpis[$index]}" != missing ] || { echo "$me: error: $host has no mpirun. HINT: cluster/prepare-node.sh installs openmpi-bin" >&2; status=1; }
done

# Every host against the first.
differ() {
    local what=$1 name=$2 index
    local -n values=$name
    for index in "${!hosts[@]}"; do
        if [ "${values[$index]}" != "${values[0]}" ]; then
            echo "$me: error: $what differs: ${hosts[$index]} has '${values[$index]}', ${hosts[0]} has '${values[0]}'. HINT: $3" >&2
            status=1
        fi
    done
}
differ "the srgan-dist binary ($binary)" checksums "copy one binary to every host: cluster/prepare-node.sh --binary PATH"
differ "the Open MPI version" openmpis "install the same openmpi-bin/libopenmpi-dev everywhere (same Debian release, apt-get upgrade on all hosts)"
differ "the OpenBLAS package" openblases "install the same libopenblas0 package everywhere (it decides the numbers of every matrix product)"

if [ "$status" -eq 0 ]; then
    echo "$me: OK: ${#hosts[@]} hosts agree (srgan-dist ${checksums[0]:0:16}..., Open MPI ${openmpis[0]}, ${openblases[0]% })"
fi
exit "$status"
