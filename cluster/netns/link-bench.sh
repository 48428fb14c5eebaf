#!/usr/bin/env bash
# Link emulation on the emulated hosts of the multi-host test: shapes every host's link with tc
# (token bucket, tbf) to 10 Gb/s and 1 Gb/s, adds latency with netem when the kernel has it, and
# measures over each link (as root, one command):
#   - the all-reduce of gradient-sized buffers (srgan-dist bench allreduce): one float (the
#     latency of a collective), the paper's generator and generator + discriminator;
#   - the training step time of the paper's networks, SRResNet and SRGAN phases, one rank per host,
#     next to the same step on one process (compute alone).
# The numbers feed docs/scaling.md.
#
#   cluster/netns/link-bench.sh
#
# Options:
#   --hosts "2 4"        host counts for the all-reduce (the step time uses 2 hosts)
#   --rates "none 10gbit 1gbit"   links to measure (tc rate syntax; none = unshaped veth)
#   --algorithms "open-mpi rabenseifner ring"   all-reduce algorithms to compare (as
#                        launch/train-mpi.sh --allreduce names them; the step time uses the first
#                        two)
#   --delay 100us        netem latency added to every host's outgoing link in an extra pass
#                        (skipped, and said so, when the kernel has no netem)
#   --repeats N          timed all-reduces per size (default 10)
#   --steps N            training steps per step-time run (default 5; the first is not counted)
#   --no-train           all-reduce only
#   --bin PATH           srgan-dist with `bench allreduce` (default: the repository's
#                        .build/release/srgan-dist)
#   --work DIR           work folder (default: a new folder under /tmp, removed at the end)
#   -h, --help           this text
#
# The measurements are only as good as the machine is quiet: the script prints the load and any
# compiler running beside it. Everything it made is removed at the end, also on failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=cluster/netns/netns-lib.sh
source "$here/netns-lib.sh"
me="link-bench.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
fail() { echo "$me: error: $1. HINT: $2" >&2; exit 1; }
section() { printf '\n== %s\n' "$*"; }

host_counts="2 4" rates="none 10gbit 1gbit" algorithms="open-mpi rabenseifner ring" delay=100us repeats=10 steps=5 train=1 binary="" work=""
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --hosts) [ $# -ge 2 ] || fail "--hosts needs a list" "e.g. --hosts \"2 4\""; host_counts=$2; shift 2 ;;
        --rates) [ $# -ge 2 ] || fail "--rates needs a list" "e.g. --rates \"none 1gbit\""; rates=$2; shift 2 ;;
        --algorithms) [ $# -ge 2 ] || fail "--algorithms needs a list" "e.g. --algorithms \"open-mpi ring\""; algorithms=$2; shift 2 ;;
        --delay) [ $# -ge 2 ] || fail "--delay needs a time" "e.g. --delay 100us"; delay=$2; shift 2 ;;
        --repeats) [ $# -ge 2 ] || fail "--repeats needs a number" "e.g. --repeats 10"; repeats=$2; shift 2 ;;
        --steps) [ $# -ge 2 ] || fail "--steps needs a number" "e.g. --steps 5"; steps=$2; shift 2 ;;
        --no-train) train=0; shift ;;
        --bin) [ $# -ge 2 ] || fail "--bin needs a path" "e.g. --bin .build/release/srgan-dist"; binary=$2; shift 2 ;;
        --work) [ $# -ge 2 ] || fail "--work needs a folder" "e.g. --work /tmp/lb"; work=$2; shift 2 ;;
        *) fail "unknown option '$1'" "see $0 --help" ;;
    esac
done
[ "$(id -u)" -eq 0 ] || fail "this benchmark must run as root (network namespaces and tc)" "run it with sudo or as root"
for tool in ip tc unshare mpirun flock awk; do
    command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is not installed" "apt-get install iproute2 util-linux openmpi-bin gawk"
done
for count in $host_counts; do
    case "$count" in 2|3|4) ;; *) fail "--hosts: '$count' is not 2, 3 or 4" "e.g. --hosts \"2 4\"" ;; esac
done
[ "$steps" -ge 3 ] 2>/dev/null || fail "--steps must be at least 3" "the first step is a warm-up"
lock=/run/lock/srgan-netns.lock
[ -d /run/lock ] || lock=/tmp/srgan-netns.lock
exec 9>"$lock"
flock -n 9 || fail "another multi-host test or link benchmark is running (it holds $lock)" "wait for it to finish"
netns_check_clean

bin=${binary:-$repo/.build/release/srgan-dist}
[ -x "$bin" ] || fail "$bin is not an executable file" "build it (bash scripts/setup.sh) or pass --bin PATH"
"$bin" bench allreduce --help >/dev/null 2>&1 || fail "$bin has no 'bench allreduce'" "rebuild it from this repository (swift build -c release)"
if [ -z "$work" ]; then work=$(mktemp -d /tmp/srgan-linkbench.XXXXXX); else mkdir -p "$work"; fi
work=$(cd "$work" && pwd)
mkdir -p "$work/bin" "$work/logs"
cp "$bin" "$work/bin/srgan-dist"
bin="$work/bin/srgan-dist"
finish() {
    netns_down
    rm -rf "$work"
}
trap finish EXIT
trap 'exit 130' INT TERM

agent="$here/netns-agent.sh"
# shellcheck disable=SC2054  # tcp,self is one word
cross_host_mpi=(--map-by node --bind-to none --mca plm_rsh_agent "$agent" --mca plm_rsh_no_tree_spawn 1
                --mca orte_keep_fqdn_hostnames 1 --mca btl tcp,self --mca btl_tcp_if_include "$NETNS_CIDR"
                --mca oob_tcp_if_include "$NETNS_CIDR" -x OPENBLAS_NUM_THREADS=1)
largest=2
for count in $host_counts; do [ "$count" -le "$largest" ] || largest=$count; done

section "machine"
echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r), $(mpirun --version | head -n 1)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
builds=$(ps -eo comm= | grep -cE '^(swift-build|swiftc|swift-frontend)$' || true)
if [ "$builds" -gt 0 ]; then echo "warning: $builds compiler process(es) running beside this benchmark: the numbers are disturbed"; fi
if netns_has_netem; then netem=1; echo "netem: available"; else netem=0; echo "netem: NOT available in this kernel (tc: unknown qdisc kind): no latency emulation; latency enters docs/scaling.md on paper"; fi

netns_up "$largest"
sizes=$("$bin" bench allreduce --json --repeats 1 --warmup 0 | sed -E 's/.*"floats": ([0-9]+).*/\1/' | tr '\n' ' ')
read -r generator_floats total_floats <<<"$sizes"

# algorithm_code NAME: coll_libnbc_iallreduce_algorithm's number for an algorithm name.
algorithm_code() {
    case "$1" in
        open-mpi) echo 0 ;; ring) echo 1 ;; binomial) echo 2 ;; rabenseifner) echo 3 ;; recursive-doubling) echo 4 ;;
        *) fail "algorithm '$1' is not known" "use open-mpi, ring, binomial, rabenseifner or recursive-doubling" ;;
    esac
}
for algorithm in $algorithms; do algorithm_code "$algorithm" >/dev/null; done

# allreduce LINK COUNT ALGORITHM: one table row per size.
allreduce() {
    local link=$1 count=$2 algorithm=$3
    netns_hostfile "$count" "$work/hostfile-$count"
    mpirun --allow-run-as-root -n "$count" --hostfile "$work/hostfile-$count" "${cross_host_mpi[@]}" \
        --mca coll_libnbc_iallreduce_algorithm "$(algorithm_code "$algorithm")" \
        "$bin" bench allreduce --json --repeats "$repeats" --floats 1 --floats "$generator_floats" --floats "$total_floats" \
        >"$work/logs/allreduce-$link-$count-$algorithm.log" 2>&1 \
        || { tail -n 20 "$work/logs/allreduce-$link-$count-$algorithm.log" >&2; fail "bench allreduce over $count hosts ($link, $algorithm) failed" "see the output above"; }
    grep '^{' "$work/logs/allreduce-$link-$count-$algorithm.log" | awk -v link="$link" -v hosts="$count" -v algorithm="$algorithm" '{
        match($0, /"floats": [0-9]+/); floats = substr($0, RSTART + 10, RLENGTH - 10)
        match($0, /"median_ms": [0-9.]+/); median = substr($0, RSTART + 13, RLENGTH - 13)
        match($0, /"min_ms": [0-9.]+/); minimum = substr($0, RSTART + 10, RLENGTH - 10)
        match($0, /"algbw_gb_s": [0-9.]+/); algbw = substr($0, RSTART + 14, RLENGTH - 14)
        match($0, /"busbw_gb_s": [0-9.]+/); busbw = substr($0, RSTART + 14, RLENGTH - 14)
        printf "| %s | %d | %s | %d | %.2f | %.3f | %.3f | %.3f | %.3f |\n", link, hosts, algorithm, floats, floats * 4 / 1e6, median, minimum, algbw, busbw }'
}

# step_time NAME RANKS ALGORITHM PHASE-OPTIONS...: median seconds per step (steps 2..N) from
# metrics.jsonl.
step_time() {
    local name=$1 ranks=$2 algorithm=$3
    shift 3
    local options=(--preset paper --data "$work/packed" --batch 1 --steps "$steps" --log-every 1
                   --validate-every 100000 --checkpoint-every 100000 --seed 3 "$@")
    if [ "$ranks" -eq 1 ]; then
        "$repo/launch/train-local.sh" --threads 1 --bin "$bin" --no-resume --run "$work/$name" -- "${options[@]}" >"$work/logs/$name.log" 2>&1
    else
        netns_hostfile "$ranks" "$work/hostfile-$ranks"
        "$repo/launch/train-mpi.sh" -n "$ranks" --hostfile "$work/hostfile-$ranks" --allreduce "$algorithm" --kill-timeout 5 --bind none --tcp-if "$NETNS_CIDR" \
            --mca plm_rsh_agent "$agent" --mca plm_rsh_no_tree_spawn 1 --mca orte_keep_fqdn_hostnames 1 --mca btl tcp,self \
            --bin "$bin" --no-resume --run "$work/$name" -- "${options[@]}" >"$work/logs/$name.log" 2>&1
    fi || { tail -n 20 "$work/logs/$name.log" >&2; fail "the training run $name failed" "see the output above"; }
    grep '"kind": "train"' "$work/$name/metrics.jsonl" | sed -E 's/.*"time": ([0-9.]+).*/\1/' \
        | awk 'NR > 1 { print $1 - previous } { previous = $1 }' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

section "all-reduce (srgan-dist bench allreduce, median and min of $repeats; algbw = bytes / time, busbw = 2 (p-1)/p x algbw)"
echo "| link | hosts | algorithm | floats | MB | median ms | min ms | algbw GB/s | busbw GB/s |"
echo "|---|---:|---|---:|---:|---:|---:|---:|---:|"
for rate in $rates; do
    netns_shape "$largest" "$rate"
    for count in $host_counts; do
        for algorithm in $algorithms; do allreduce "$rate" "$count" "$algorithm"; done
    done
done
if [ "$netem" -eq 1 ]; then
    netns_shape "$largest" 10gbit
    netns_delay "$largest" "$delay"
    for count in $host_counts; do
        for algorithm in $algorithms; do allreduce "10gbit+$delay" "$count" "$algorithm"; done
    done
fi
netns_shape "$largest" none

if [ "$train" -eq 1 ]; then
    "$bin" pack --input "$repo/samples/photos" --output "$work/packed" --patch-size 96 --stride 96 --val-images 2 >"$work/logs/pack.log" 2>&1 \
        || { cat "$work/logs/pack.log" >&2; fail "packing failed" "see the message above"; }
    section "training step, paper networks, batch 1 per rank, 1 BLAS thread per rank (median of steps 2..$steps)"
    echo "| link | phase | ranks | algorithm | step s | comm. + wait s (vs 1 process) |"
    echo "|---|---|---:|---|---:|---:|"
    read -r -a step_algorithms <<<"$algorithms"
    step_algorithms=("${step_algorithms[@]:0:2}")
    for phase in srresnet gan; do
        phase_options=(--phase "$phase")
        [ "$phase" = srresnet ] || phase_options+=(--content-loss vgg54 --allow-random-vgg)
        alone=$(step_time "one-$phase" 1 none "${phase_options[@]}")
        printf '| one process | %s | 1 | | %.3f | |\n' "$phase" "$alone"
        for rate in $rates; do
            netns_shape "$largest" "$rate"
            for algorithm in "${step_algorithms[@]}"; do
                seconds=$(step_time "two-$phase-$rate-$algorithm" 2 "$algorithm" "${phase_options[@]}")
                printf '| %s | %s | 2 | %s | %.3f | %.3f |\n' "$rate" "$phase" "$algorithm" "$seconds" "$(awk -v a="$seconds" -v b="$alone" 'BEGIN { print a - b }')"
            done
        done
        netns_shape "$largest" none
    done
fi
section "done; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
