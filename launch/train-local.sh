#!/usr/bin/env bash
# Single-node debug launch: `srgan-dist train` as one process, no mpirun. The same code runs
# (the single-process communicator reduces nothing), so this is where to reproduce a problem
# with a debugger, a profiler or print statements before going back to mpirun.
#
# Usage: launch/train-local.sh [options] --run RUN [-- TRAIN-OPTIONS...]
#
#   --run RUN        run folder; --resume is added when it holds a complete checkpoint
#                    (RUN/checkpoints/step-*/COMPLETE)
#   --threads T      BLAS threads (default: all cores of this node); exported as
#                    OPENBLAS_NUM_THREADS and passed as train --threads
#   --bin PATH       srgan-dist binary (default: $SRGAN_DIST, the repository's
#                    .build/release/srgan-dist, or srgan-dist on PATH); e.g. a debug build:
#                    --bin .build/debug/srgan-dist
#   --wrap CMD       run the binary under CMD, split on spaces (e.g. --wrap "gdb --args",
#                    --wrap "perf record -g", --wrap "valgrind")
#   --no-resume      never add --resume
#   --dry-run        print the command and exit
#   -h, --help       this text
#
# Everything after `--` goes to srgan-dist train. Ctrl-C stops cleanly after the current step
# with a checkpoint; run the same command again to resume.
#
# Example:
#   launch/train-local.sh --run runs/debug -- --preset tiny --data packed --val packed --steps 20
set -euo pipefail
# shellcheck source=launch/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
me=train-local.sh

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

threads="" binary="" run="" resume=1 dry_run=0 wrap=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --threads) [ $# -ge 2 ] || launch_fail $me "--threads needs a value" "e.g. --threads 2"; threads=$2; shift 2 ;;
        --bin) [ $# -ge 2 ] || launch_fail $me "--bin needs a path" "e.g. --bin .build/debug/srgan-dist"; binary=$2; shift 2 ;;
        --wrap) [ $# -ge 2 ] || launch_fail $me "--wrap needs a command" "e.g. --wrap \"gdb --args\""; read -r -a wrap <<<"$2"; shift 2 ;;
        --run) [ $# -ge 2 ] || launch_fail $me "--run needs a folder" "e.g. --run runs/debug"; run=$2; shift 2 ;;
        --no-resume) resume=0; shift ;;
        --dry-run) dry_run=1; shift ;;
        --) shift; break ;;
        *) launch_fail $me "unknown option '$1'" "launch options go before '--', train options after it; see $0 --help" ;;
    esac
done
train_args=("$@")

[ -n "$run" ] || launch_fail $me "--run RUN is required" "name the run folder, e.g. --run runs/debug"
threads=${threads:-$(nproc)}
launch_positive $me --threads "$threads"
launch_check_train_args $me "${train_args[@]+"${train_args[@]}"}"
binary=$(launch_binary $me "$binary")
resume_flag=()
if [ "$resume" -eq 1 ]; then
    flag=$(launch_resume_flag $me "$run")
    [ -z "$flag" ] || resume_flag=("$flag")
fi
# A leftover Open MPI environment would make the binary believe it runs under mpirun.
unset OMPI_COMM_WORLD_SIZE PMIX_RANK PMI_RANK
export OPENBLAS_NUM_THREADS=$threads
command=("${wrap[@]+"${wrap[@]}"}" "$binary" train --run "$run" --threads "$threads" "${resume_flag[@]+"${resume_flag[@]}"}" "${train_args[@]+"${train_args[@]}"}")
if [ "$dry_run" -eq 1 ]; then
    launch_print_command "" "${command[@]}"
    exit 0
fi
[ "${#resume_flag[@]}" -eq 0 ] || echo "$me: $run holds a complete checkpoint: resuming it" >&2
launch_print_command "$me: running" "${command[@]}"
exec "${command[@]}"
