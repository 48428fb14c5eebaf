# shellcheck shell=bash
# Shared by the launch scripts (sourced, not run): finding the binary, deciding whether to
# resume, and reporting errors the same way.

LAUNCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LAUNCH_DIR/.." && pwd)

# launch_fail SCRIPT MESSAGE HINT
launch_fail() {
    echo "$1: error: $2. HINT: $3" >&2
    exit 2
}

# launch_binary SCRIPT [PATH] [several-hosts]: the srgan-dist to run: PATH, else $SRGAN_DIST,
# else the repository's release build, else srgan-dist on PATH. For several hosts, srgan-dist on
# PATH comes before the repository's build: cluster/prepare-node.sh installs it at the same path
# on every node, while a build folder usually exists on one machine only.
launch_binary() {
    local script=$1 wanted=${2:-${SRGAN_DIST:-}} several=${3:-}
    local built="$REPO_DIR/.build/release/srgan-dist" installed
    installed=$(command -v srgan-dist 2>/dev/null || true)
    if [ -n "$wanted" ]; then
        [ -x "$wanted" ] || launch_fail "$script" "$wanted is not an executable file" "pass --bin the srgan-dist binary (cluster/prepare-node.sh puts it in place)"
        printf '%s\n' "$wanted"
    elif [ -n "$several" ] && [ -n "$installed" ]; then
        printf '%s\n' "$installed"
    elif [ -x "$built" ]; then
        printf '%s\n' "$built"
    elif [ -n "$installed" ]; then
        printf '%s\n' "$installed"
    else
        launch_fail "$script" "no srgan-dist binary found ($REPO_DIR/.build/release/srgan-dist is missing and none is on PATH)" \
            "build it with 'bash scripts/setup.sh' or 'bash cluster/prepare-node.sh', or pass --bin PATH"
    fi
}

# launch_resume_flag SCRIPT RUN: prints --resume when RUN holds a complete checkpoint, nothing
# for a new run; fails when RUN holds a run that never reached a checkpoint (the trainer would
# refuse to overwrite it).
launch_resume_flag() {
    local script=$1 run=$2 marker
    for marker in "$run"/checkpoints/step-*/COMPLETE; do
        if [ -f "$marker" ]; then
            printf '%s\n' "--resume"
            return 0
        fi
    done
    if [ -f "$run/config.yaml" ]; then
        launch_fail "$script" "$run holds a run that stopped before its first checkpoint (config.yaml but no checkpoints/step-*/COMPLETE)" \
            "nothing can be resumed there: remove it (rm -r $run) to start over, or choose another --run"
    fi
}

# launch_check_train_args SCRIPT ARG...: refuses options the launch script sets itself.
launch_check_train_args() {
    local script=$1 argument
    shift
    for argument in "$@"; do
        case "$argument" in
            --run|--run=*) launch_fail "$script" "give --run before '--', not among the train options" "the launch script passes --run to train itself (it needs it to decide on --resume)" ;;
            --threads|--threads=*) launch_fail "$script" "give --threads before '--', not among the train options" "the launch script sets the BLAS threads of every rank (OPENBLAS_NUM_THREADS and train --threads)" ;;
            --resume|--resume-from|--resume-from=*) launch_fail "$script" "$argument is decided by the launch script" "it adds --resume when the run folder holds a complete checkpoint; use srgan-dist train directly to resume from a chosen checkpoint" ;;
        esac
    done
}

# launch_positive SCRIPT OPTION VALUE
launch_positive() {
    case "$3" in
        ''|*[!0-9]*|0) launch_fail "$1" "$2 wants a positive whole number, got '$3'" "e.g. $2 2" ;;
    esac
}

# launch_print_command PREFIX WORD...: the command, quoted so it can be pasted into a shell.
launch_print_command() {
    local prefix=$1
    shift
    printf '%s' "$prefix" >&2
    printf ' %q' "$@" >&2
    printf '\n' >&2
}
