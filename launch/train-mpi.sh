#!/usr/bin/env bash
# Starts `srgan-dist train` under Open MPI (mpirun), on this node or on the hosts of a hostfile.
#
# Usage: launch/train-mpi.sh [options] --run RUN [-- TRAIN-OPTIONS...]
#
#   --run RUN            run folder (passed to train). When it already holds a complete
#                        checkpoint (RUN/checkpoints/step-*/COMPLETE), --resume is added: the same
#                        command starts a run and continues it after a stop.
#   -n, --np N           ranks (default: this node's cores / threads; with --hostfile, one rank
#                        per slot of the hostfile)
#   --hostfile FILE      hosts and slots, Open MPI syntax (cluster/hostfile.example)
#   --threads T          BLAS threads per rank (default 1): exported as OPENBLAS_NUM_THREADS
#                        with -x and passed as train --threads
#   --bind WHAT          core (default: each rank bound to its own T cores), hwthread, socket
#                        or none
#   --map-by SPEC        Open MPI --map-by (default core, or slot:PE=T when T > 1)
#   --tcp-if LIST        pin MPI traffic and Open MPI's own to these interfaces or subnets
#                        (btl_tcp_if_include and oob_tcp_if_include), e.g. eth1 or 10.1.0.0/16
#   --oversubscribe      allow more ranks than cores (debugging only)
#   --allreduce ALG      algorithm of the gradient all-reduce (Open MPI's non-blocking
#                        collectives, coll_libnbc_iallreduce_algorithm): rabenseifner (default;
#                        reduce-scatter + all-gather, bandwidth-optimal), ring, recursive-doubling,
#                        binomial, or open-mpi (its own choice, which is binomial for srgan-dist's
#                        in-place all-reduce: 2 log2(ranks) full copies; docs/distributed.md)
#   --kill-timeout S     seconds mpirun waits between SIGTERM and SIGKILL to the ranks
#                        (odls_base_sigkill_timeout, default 120): time to write a checkpoint
#   --container          for containers that forbid cross-memory attach between processes
#                        (the ranks fail with "Read -1, expected N, errno = 1"): sets
#                        btl_vader_single_copy_mechanism none. Off by default: it makes the GAN
#                        phase's 100 MB all-reduce between ranks of one node about 12x slower
#                        (docs/distributed.md)
#   --mca KEY VALUE      one more Open MPI parameter (repeatable)
#   --mpi-arg ARG        one more raw mpirun argument (repeatable)
#   --env NAME[=VALUE]   one more environment variable for the ranks (-x, repeatable)
#   --bin PATH           srgan-dist binary (default: $SRGAN_DIST, else the repository's
#                        .build/release/srgan-dist, else srgan-dist on PATH; with --hostfile,
#                        srgan-dist on PATH first); the same path must exist on every host
#   --no-resume          never add --resume
#   --dry-run            print the mpirun command and exit
#   -h, --help           this text
#
# Everything after `--` goes to srgan-dist train (e.g. --preset, --phase, --data, --val, --batch,
# --steps); --run, --threads and --resume are set here.
#
# As root, --allow-run-as-root and OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM)=1 are added. mpirun is
# exec'ed, so signals sent to this script's process reach mpirun: `kill -USR2 PID` is the clean
# stop (checkpoint, exit 0), SIGTERM gives the ranks --kill-timeout seconds (docs/training.md).
#
# Examples:
#   launch/train-mpi.sh -n 2 --run runs/a -- --preset tiny --data packed --val packed
#   launch/train-mpi.sh --hostfile hosts --threads 4 --tcp-if 10.1.0.0/16 --run /shared/runs/b \
#       -- --preset paper --phase srresnet --data /shared/packed --val /shared/packed --batch 2
set -euo pipefail
# shellcheck source=launch/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
me=train-mpi.sh

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

ranks="" hostfile="" threads=1 allreduce=rabenseifner bind=core map_by="" tcp_if="" oversubscribe=0 kill_timeout=120
container=no binary="" run="" resume=1 dry_run=0
extra_mpi=() extra_env=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        -n|--np) [ $# -ge 2 ] || launch_fail $me "$1 needs a value" "e.g. $1 4"; ranks=$2; shift 2 ;;
        --hostfile) [ $# -ge 2 ] || launch_fail $me "--hostfile needs a file" "see cluster/hostfile.example"; hostfile=$2; shift 2 ;;
        --threads) [ $# -ge 2 ] || launch_fail $me "--threads needs a value" "e.g. --threads 2"; threads=$2; shift 2 ;;
        --bind) [ $# -ge 2 ] || launch_fail $me "--bind needs a value" "core, hwthread, socket or none"; bind=$2; shift 2 ;;
        --map-by) [ $# -ge 2 ] || launch_fail $me "--map-by needs a value" "e.g. --map-by node"; map_by=$2; shift 2 ;;
        --tcp-if) [ $# -ge 2 ] || launch_fail $me "--tcp-if needs interfaces or subnets" "e.g. --tcp-if eth1 or --tcp-if 10.1.0.0/16"; tcp_if=$2; shift 2 ;;
        --oversubscribe) oversubscribe=1; shift ;;
        --allreduce) [ $# -ge 2 ] || launch_fail $me "--allreduce needs an algorithm" "rabenseifner, ring, recursive-doubling, binomial or open-mpi"; allreduce=$2; shift 2 ;;
        --kill-timeout) [ $# -ge 2 ] || launch_fail $me "--kill-timeout needs seconds" "e.g. --kill-timeout 120"; kill_timeout=$2; shift 2 ;;
        --container) container=yes; shift ;;
        --mca) [ $# -ge 3 ] || launch_fail $me "--mca needs KEY VALUE" "e.g. --mca btl_tcp_links 2"; extra_mpi+=(--mca "$2" "$3"); shift 3 ;;
        --mpi-arg) [ $# -ge 2 ] || launch_fail $me "--mpi-arg needs an argument" "e.g. --mpi-arg --report-bindings"; extra_mpi+=("$2"); shift 2 ;;
        --env) [ $# -ge 2 ] || launch_fail $me "--env needs NAME or NAME=VALUE" "e.g. --env LD_LIBRARY_PATH"; extra_env+=(-x "$2"); shift 2 ;;
        --bin) [ $# -ge 2 ] || launch_fail $me "--bin needs a path" "e.g. --bin /opt/srgan/srgan-dist"; binary=$2; shift 2 ;;
        --run) [ $# -ge 2 ] || launch_fail $me "--run needs a folder" "e.g. --run runs/a"; run=$2; shift 2 ;;
        --no-resume) resume=0; shift ;;
        --dry-run) dry_run=1; shift ;;
        --) shift; break ;;
        *) launch_fail $me "unknown option '$1'" "launch options go before '--', train options after it; see $0 --help" ;;
    esac
done
train_args=("$@")

[ -n "$run" ] || launch_fail $me "--run RUN is required" "name the run folder, e.g. --run runs/a (the script resumes it when it holds a checkpoint)"
launch_positive $me --threads "$threads"
launch_positive $me --kill-timeout "$kill_timeout"
[ -z "$ranks" ] || launch_positive $me --np "$ranks"
launch_check_train_args $me "${train_args[@]+"${train_args[@]}"}"
command -v mpirun >/dev/null 2>&1 || launch_fail $me "mpirun is not on PATH" "install Open MPI (apt-get install openmpi-bin libopenmpi-dev, or bash cluster/prepare-node.sh)"
if [ -n "$hostfile" ]; then
    [ -r "$hostfile" ] || launch_fail $me "cannot read the hostfile $hostfile" "see cluster/hostfile.example for the format"
    grep -qvE '^[[:space:]]*(#|$)' "$hostfile" || launch_fail $me "the hostfile $hostfile names no host" "one host per line, e.g. 'node01 slots=32'"
fi
case "$bind" in core|hwthread|socket|none) ;; *) launch_fail $me "--bind '$bind' is not known" "use core, hwthread, socket or none" ;; esac
case "$allreduce" in
    open-mpi) allreduce_code=0 ;;
    ring) allreduce_code=1 ;;
    binomial) allreduce_code=2 ;;
    rabenseifner) allreduce_code=3 ;;
    recursive-doubling) allreduce_code=4 ;;
    *) launch_fail $me "--allreduce '$allreduce' is not known" "use rabenseifner, ring, recursive-doubling, binomial or open-mpi" ;;
esac
binary=$(launch_binary $me "$binary" "$hostfile")

resume_flag=()
if [ "$resume" -eq 1 ]; then
    flag=$(launch_resume_flag $me "$run")
    [ -z "$flag" ] || resume_flag=("$flag")
fi

mpi=(mpirun)
if [ "$(id -u)" -eq 0 ]; then
    mpi+=(--allow-run-as-root)
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
if [ -n "$ranks" ]; then
    mpi+=(-n "$ranks")
elif [ -z "$hostfile" ]; then
    cores=$(nproc)
    ranks=$((cores / threads))
    [ "$ranks" -ge 1 ] || launch_fail $me "--threads $threads is more than this node's $cores cores" "lower --threads"
    mpi+=(-n "$ranks")
fi
[ -z "$hostfile" ] || mpi+=(--hostfile "$hostfile")
if [ -z "$map_by" ]; then
    if [ "$bind" = none ] || [ "$threads" -eq 1 ]; then map_by=core; else map_by="slot:PE=$threads"; fi
fi
mpi+=(--map-by "$map_by" --bind-to "$bind")
[ "$oversubscribe" -eq 0 ] || mpi+=(--oversubscribe)
mpi+=(--mca odls_base_sigkill_timeout "$kill_timeout")
# Some containers forbid cross-memory attach (process_vm_readv) between the ranks of a node.
[ "$container" = no ] || mpi+=(--mca btl_vader_single_copy_mechanism none)
# Always explicit: without it srgan-dist asks for Rabenseifner itself, so open-mpi passes 0.
mpi+=(--mca coll_libnbc_iallreduce_algorithm "$allreduce_code")
[ -z "$tcp_if" ] || mpi+=(--mca btl_tcp_if_include "$tcp_if" --mca oob_tcp_if_include "$tcp_if")
mpi+=(-x "OPENBLAS_NUM_THREADS=$threads")
mpi+=("${extra_env[@]+"${extra_env[@]}"}" "${extra_mpi[@]+"${extra_mpi[@]}"}")
mpi+=("$binary" train --run "$run" --threads "$threads" "${resume_flag[@]+"${resume_flag[@]}"}" "${train_args[@]+"${train_args[@]}"}")

if [ "$dry_run" -eq 1 ]; then
    launch_print_command "" "${mpi[@]}"
    exit 0
fi
[ "${#resume_flag[@]}" -eq 0 ] || echo "$me: $run holds a complete checkpoint: resuming it" >&2
launch_print_command "$me: running" "${mpi[@]}"
exec "${mpi[@]}"
