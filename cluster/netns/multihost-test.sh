#!/usr/bin/env bash
# The multi-host test: several hosts emulated on this machine with Linux network namespaces,
# Open MPI launched across them, a real short training run on 2 and on 4 "hosts" (one rank each),
# checked against the same run on one host. One command, as root:
#
#   cluster/netns/multihost-test.sh
#
# What it does:
#   1. makes hosts srg-h1..srg-hN: network namespaces, each with eth0 = 10.77.0.<i>/24 on a veth
#      pair to the bridge srg-br0 (10.77.0.254) in the root namespace, where mpirun runs;
#   2. checks that every host sees the same srgan-dist, Open MPI and OpenBLAS
#      (cluster/check-versions.sh through cluster/netns/netns-agent.sh);
#   3. packs samples/photos, then for 2 and 4 hosts: launch/train-mpi.sh with the hostfile of
#      those hosts (named by address), Open MPI's ssh replaced by netns-agent.sh (ip netns exec)
#      and TCP pinned to 10.77.0.0/24; the tiny GAN phase with --check-replicas (every rank's
#      weights are compared with rank 0's after every step); on 2 hosts also a stop after 3 steps
#      and a resume by the same launch command;
#   4. runs the same training with the same number of ranks on one host (mpirun, shared memory),
#      and compares the checkpoints' generator, discriminator and training tensors byte for byte;
#   5. removes every namespace, veth and the bridge it made, also when it fails or is interrupted.
#
# Options:
#   --hosts "2 4"    host counts to test (each 2 to 4)
#   --bin PATH       srgan-dist (default: the repository's .build/release/srgan-dist; waits up to
#                    10 minutes for it to appear); copied into the work folder before use
#   --work DIR       work folder (default: a new folder under /tmp, removed after a pass)
#   --keep-work      keep the work folder after a pass
#   --setup N        only make N emulated hosts and a hostfile, print how to launch across them,
#                    and leave them up (remove them with --cleanup)
#   --cleanup        remove emulated hosts left by --setup or by a crashed run, and exit
#   -h, --help       this text
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=cluster/netns/netns-lib.sh
source "$here/netns-lib.sh"
me="multihost-test.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
fail() { echo "$me: error: $1. HINT: $2" >&2; exit 1; }
section() { printf '== %s\n' "$*"; }
seconds_since() { awk -v start="$1" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f", now - start }'; }

host_counts="2 4" binary="" work="" keep_work=0 setup=0 cleanup=0
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --hosts) [ $# -ge 2 ] || fail "--hosts needs a list" "e.g. --hosts \"2 4\""; host_counts=$2; shift 2 ;;
        --bin) [ $# -ge 2 ] || fail "--bin needs a path" "e.g. --bin .build/release/srgan-dist"; binary=$2; shift 2 ;;
        --work) [ $# -ge 2 ] || fail "--work needs a folder" "e.g. --work /tmp/mh"; work=$2; shift 2 ;;
        --keep-work) keep_work=1; shift ;;
        --setup) [ $# -ge 2 ] || fail "--setup needs a host count" "e.g. --setup 2"; setup=$2; shift 2 ;;
        --cleanup) cleanup=1; shift ;;
        *) fail "unknown option '$1'" "see $0 --help" ;;
    esac
done

[ "$(id -u)" -eq 0 ] || fail "this test must run as root (it creates network namespaces, veth pairs and a bridge)" "run it with sudo or as root"
for tool in ip unshare mpirun flock awk; do
    command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is not installed" "apt-get install iproute2 util-linux openmpi-bin gawk"
done
lock=/run/lock/srgan-netns.lock
[ -d /run/lock ] || lock=/tmp/srgan-netns.lock
exec 9>"$lock"
flock -n 9 || fail "another multi-host test is running (it holds $lock)" "wait for it to finish"

if [ "$cleanup" -eq 1 ]; then
    netns_remove_leftovers
    rm -rf /run/srgan-netns
    echo "$me: no emulated hosts left"
    exit 0
fi
for count in $host_counts; do
    case "$count" in 2|3|4) ;; *) fail "--hosts: '$count' is not 2, 3 or 4" "e.g. --hosts \"2 4\"" ;; esac
done
if [ "$setup" != 0 ]; then
    case "$setup" in 2|3|4) ;; *) fail "--setup: '$setup' is not 2, 3 or 4" "e.g. --setup 2" ;; esac
fi

netns_check_clean
agent="$here/netns-agent.sh"
# Open MPI across the emulated hosts: daemons started through the agent, one by one from mpirun
# (no tree spawn: a daemon inside one namespace cannot start another), host names kept as given,
# MPI traffic over TCP on the emulated network only (no shared memory between "hosts").
# shellcheck disable=SC2054  # tcp,self is one word
cross_host=(--bind none --tcp-if "$NETNS_CIDR" --mca plm_rsh_agent "$agent" --mca plm_rsh_no_tree_spawn 1
            --mca orte_keep_fqdn_hostnames 1 --mca btl tcp,self)

if [ "$setup" != 0 ]; then
    netns_up "$setup"
    state=/run/srgan-netns
    mkdir -p "$state"
    netns_hostfile "$setup" "$state/hosts"
    echo "$me: $setup emulated hosts are up: $(for i in $(seq 1 "$setup"); do printf '%s (%s.%s) ' "$NETNS_PREFIX$i" "$NETNS_NET" "$i"; done)"
    echo "hostfile: $state/hosts"
    echo "launch across them, e.g.:"
    printf '  %s/launch/train-mpi.sh -n %s --hostfile %s' "$repo" "$setup" "$state/hosts"
    printf ' %q' "${cross_host[@]}"
    printf ' --run runs/two-hosts -- --preset tiny --data PACKED --val PACKED\n'
    echo "remove them afterwards: $0 --cleanup"
    exit 0
fi

command -v python3 >/dev/null 2>&1 || fail "python3 is not installed (the tensor comparison uses it, standard library only)" "apt-get install python3-minimal"
started=$(date +%s.%N)
if [ -z "$work" ]; then work=$(mktemp -d /tmp/srgan-multihost.XXXXXX); else mkdir -p "$work"; fi
work=$(cd "$work" && pwd)
mkdir -p "$work/logs" "$work/bin"
passed=0
finish() {
    netns_down
    if [ "$passed" -eq 1 ] && [ "$keep_work" -eq 0 ]; then
        rm -rf "$work"
    elif [ "$passed" -eq 0 ]; then
        echo "$me: FAIL; logs and runs kept in $work; every emulated host was removed" >&2
    fi
}
trap finish EXIT
trap 'exit 130' INT TERM

# The binary, frozen: another build may replace the original while the test runs.
source_binary=${binary:-$repo/.build/release/srgan-dist}
waited=0
until [ -x "$source_binary" ]; do
    [ "$waited" -lt 600 ] || fail "$source_binary did not appear in 10 minutes" "build it (bash scripts/setup.sh) or pass --bin PATH"
    [ "$waited" -gt 0 ] || echo "$me: waiting for $source_binary (being rebuilt?)"
    sleep 5
    waited=$((waited + 5))
done
cp "$source_binary" "$work/bin/srgan-dist"
bin="$work/bin/srgan-dist"
largest=0
for count in $host_counts; do [ "$count" -le "$largest" ] || largest=$count; done

section "multi-host test: $host_counts emulated hosts; srgan-dist $("$bin" --version) (sha256 $(sha256sum "$bin" | cut -c1-12)), $(mpirun --version | head -n 1)"
netns_up "$largest"
for i in $(seq 1 "$largest"); do
    printf '   host %s: netns %s%s, eth0 %s.%s/24 <-> veth %s%s-br on bridge %s (%s.254, mpirun)\n' \
        "$i" "$NETNS_PREFIX" "$i" "$NETNS_NET" "$i" "$NETNS_PREFIX" "$i" "$NETNS_BRIDGE" "$NETNS_NET"
done
netns_hostfile "$largest" "$work/hostfile-all"

section "versions on every host (cluster/check-versions.sh --agent netns-agent.sh)"
"$repo/cluster/check-versions.sh" --bin "$bin" --agent "$agent" "$work/hostfile-all" | sed 's/^/   /'

section "pack samples/photos (48x48 patches, stride 96, 2 validation images)"
"$bin" pack --input "$repo/samples/photos" --output "$work/packed" --patch-size 48 --stride 96 --val-images 2 >"$work/logs/pack.log" 2>&1 \
    || { cat "$work/logs/pack.log" >&2; fail "packing failed" "see the message above"; }
sed 's/^/   /' "$work/logs/pack.log"

train_options=(--preset tiny --phase gan --data "$work/packed" --batch 2 --checkpoint-every 3 --seed 5 --check-replicas)

# bridge_bytes: bytes the hosts have sent into the bridge so far.
bridge_bytes() {
    local total=0 i value
    for i in $(seq 1 "$largest"); do
        value=$(cat "/sys/class/net/${NETNS_PREFIX}${i}-br/statistics/rx_bytes")
        total=$((total + value))
    done
    echo "$total"
}

# train NAME STEPS LAUNCH-OPTIONS...: one launch/train-mpi.sh run into $work/NAME, progress shown.
train() {
    local name=$1 steps=$2 start before after
    shift 2
    start=$(date +%s.%N)
    before=$(bridge_bytes)
    if ! "$repo/launch/train-mpi.sh" "$@" --bin "$bin" --run "$work/$name" -- "${train_options[@]}" --steps "$steps" \
        >"$work/logs/$name.log" 2>&1; then
        tail -n 25 "$work/logs/$name.log" | sed 's/^/   | /' >&2
        fail "the training run '$name' failed (log: $work/logs/$name.log)" "read the log's last lines above; docs/troubleshooting.md lists the usual causes"
    fi
    after=$(bridge_bytes)
    grep -E '^(train-mpi.sh: .*resuming|batch |(gan|srresnet) step|checkpoint step|resumed|done:)' "$work/logs/$name.log" | sed 's/^/   /'
    printf '   ok: %s s, %.1f MB crossed the emulated network\n' "$(seconds_since "$start")" \
        "$(awk -v bytes=$((after - before)) 'BEGIN { print bytes / 1e6 }')"
}

# compare A B: the tensors of every checkpoint of run A against run B.
compare() {
    local a=$1 b=$2 step file pairs=()
    for step in "$work/$a"/checkpoints/step-*; do
        step=$(basename "$step")
        [ -d "$work/$b/checkpoints/$step" ] || fail "$b has no checkpoint $step (it has: $(ls "$work/$b/checkpoints" | tr '\n' ' '))" "see $work/logs/$b.log"
        for file in generator discriminator training; do
            pairs+=("$work/$a/checkpoints/$step/$file.safetensors" "$work/$b/checkpoints/$step/$file.safetensors")
        done
    done
    python3 "$here/compare-tensors.py" "${pairs[@]}" | sed 's/^/   /' \
        || fail "$a and $b differ (above)" "the same ranks on emulated hosts and on one host must compute the same numbers: compare the versions above and the Open MPI settings in the logs ($work/logs)"
}

for count in $host_counts; do
    netns_hostfile "$count" "$work/hostfile-$count"
    section "$count hosts: where Open MPI puts the ranks (hostfile: $(sed 's/ slots=1//' "$work/hostfile-$count" | tr '\n' ' '))"
    mpirun --allow-run-as-root -n "$count" --hostfile "$work/hostfile-$count" --map-by node --bind-to none \
        --mca plm_rsh_agent "$agent" --mca plm_rsh_no_tree_spawn 1 --mca orte_keep_fqdn_hostnames 1 \
        --mca oob_tcp_if_include "$NETNS_CIDR" \
        sh -c 'echo "rank $OMPI_COMM_WORLD_RANK of $OMPI_COMM_WORLD_SIZE: host $(hostname), eth0 $(ip -4 -o addr show eth0 | awk "{print \$4}")"' \
        2>&1 | sort | sed 's/^/   /'

    section "$count hosts x 1 rank: tiny GAN phase, 6 steps, batch 2 per rank, --check-replicas"
    train "hosts-$count" 6 -n "$count" --kill-timeout 5 --hostfile "$work/hostfile-$count" "${cross_host[@]}"

    if [ "$count" -eq 2 ]; then
        section "2 hosts: 3 steps, stop, then the same launch command with --steps 6 (adds --resume by itself)"
        train "hosts-2-resumed" 3 -n 2 --kill-timeout 5 --hostfile "$work/hostfile-2" "${cross_host[@]}"
        train "hosts-2-resumed" 6 -n 2 --kill-timeout 5 --hostfile "$work/hostfile-2" "${cross_host[@]}"
    fi

    section "1 host x $count ranks (root namespace, shared memory): the same training"
    train "one-host-$count" 6 -n "$count" --kill-timeout 5 --bind none --oversubscribe

    section "compare: $count hosts vs 1 host, every checkpoint (step 3 and 6), tensors byte for byte"
    compare "hosts-$count" "one-host-$count"
    if [ "$count" -eq 2 ]; then
        section "compare: 2 hosts stopped and resumed vs 2 hosts straight"
        compare "hosts-2-resumed" "hosts-2"
    fi
done

passed=1
section "PASS: replicas agreed after every step on ${host_counts// / and } hosts; checkpoints equal to one host's, byte for byte; $(seconds_since "$started") s in all"
