#!/usr/bin/env bash
# Runs a command under AWS Lambda's sandbox rules on this machine (no Docker needed), for the local runtime tests
# and `make invoke`: a non-root uid (setpriv), a read-only root with only a size-capped tmpfs /tmp writable
# (bubblewrap), no /dev/fd, /proc present, new user/pid/ipc/uts namespaces but the host network shared (so 127.0.0.1 servers are reachable), an
# open-file limit of 1024, and a memory cap equal to the function memory (a real memory cgroup when one is
# writable here). Must run as root (it needs setpriv and the cgroup); the process tree dies with this script.
#
# Usage: lambda-sandbox.sh [options] -- CMD [ARGS...]
#   --memory MiB        function memory: the cgroup cap and AWS_LAMBDA_FUNCTION_MEMORY_SIZE inside
#                       (default: $AWS_LAMBDA_FUNCTION_MEMORY_SIZE, else 3008)
#   --tmp-size MiB      size of the /tmp tmpfs (default 512, Lambda's default ephemeral storage)
#   --task-root DIR     bind DIR read-only at /var/task, start there, set LAMBDA_TASK_ROOT=/var/task
#                       (default: start in /, which is read-only like /var/task)
#   --uid N / --gid N   the sandbox user (default 993 / 990, Lambda's sbx_user1051)
#   --nofile N          open-file limit, soft and hard (default 1024)
#   --require-memory-cap  fail instead of running uncapped when no memory cgroup can be made
# The command's exit status is returned. One line "lambda-sandbox: REPORT ..." on stderr gives the memory cap and,
# with a cgroup, the peak memory used and whether the cap was hit (OOM kill, like Lambda's "signal: killed").
#
# Memory cap: cgroup v2 (memory.max in a child of this process's cgroup) when /sys/fs/cgroup is a writable cgroup2
# hierarchy with the memory controller; else cgroup v1 (memory.limit_in_bytes + memory.memsw.limit_in_bytes in a
# child of this process's memory cgroup); else no cap, with a warning (spark-class still refuses a heap that does
# not fit). The cgroup namespace is NOT unshared: the JVM reads its container limits from /proc/self/cgroup +
# /sys/fs/cgroup, and inside a new cgroup namespace over the host's cgroup v1 mount it fails with a
# NullPointerException (CgroupV1Subsystem) that breaks JMX and then SparkContext. Note: /tmp is a tmpfs here, so files in /tmp count against the cap; in Lambda they do not.
set -euo pipefail

MEMORY=${AWS_LAMBDA_FUNCTION_MEMORY_SIZE:-3008}
TMP_SIZE=512
TASK_ROOT=
SB_UID=993
SB_GID=990
NOFILE=1024
REQUIRE_CAP=
die() { echo "lambda-sandbox: $*" >&2; exit 2; }
uint() { [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || die "$1 needs a positive whole number, got '$2'"; }

while [ $# -gt 0 ]; do
    case $1 in
        --memory) uint "$1" "${2:-}"; MEMORY=$2; shift 2 ;;
        --tmp-size) uint "$1" "${2:-}"; TMP_SIZE=$2; shift 2 ;;
        --task-root) [ -d "${2:-}" ] || die "--task-root needs a directory"; TASK_ROOT=$(cd "$2" && pwd); shift 2 ;;
        --uid) uint "$1" "${2:-}"; SB_UID=$2; shift 2 ;;
        --gid) uint "$1" "${2:-}"; SB_GID=$2; shift 2 ;;
        --nofile) uint "$1" "${2:-}"; NOFILE=$2; shift 2 ;;
        --require-memory-cap) REQUIRE_CAP=1; shift ;;
        --) shift; break ;;
        -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
        *) die "unknown option '$1' (use -- before the command)" ;;
    esac
done
[ $# -gt 0 ] || die "no command given: lambda-sandbox.sh [options] -- CMD [ARGS...]"
[ "$(id -u)" = 0 ] || die "must run as root (setpriv to uid $SB_UID, memory cgroup)"
command -v bwrap >/dev/null || die "bubblewrap is not installed (make runtime installs it: locallambda/install-deps.sh)"
command -v setpriv >/dev/null || die "setpriv (util-linux) is not installed"
if [ -n "$TASK_ROOT" ] && ! setpriv --reuid="$SB_UID" --regid="$SB_GID" --clear-groups test -r "$TASK_ROOT" -a -x "$TASK_ROOT"; then
    die "uid $SB_UID cannot read --task-root $TASK_ROOT: make it and every parent directory world-readable (chmod o+rx) or copy it to such a place"
fi

CG='' CG_KIND=''
# Lambda's sandbox user has a passwd entry (sbx_user1051); Hadoop's login fails without one ("invalid null input:
# name"). Give the sandbox copies of /etc/passwd and /etc/group with that user added.
ETC=$(mktemp -d /tmp/lambda-sandbox-etc.XXXXXX)
{ grep -v "^sbx_user1051:" /etc/passwd; echo "sbx_user1051:x:$SB_UID:$SB_GID::/home/sbx_user1051:/sbin/nologin"; } > "$ETC/passwd"
{ grep -v "^sbx_user1051:" /etc/group; echo "sbx_user1051:x:$SB_GID:"; } > "$ETC/group"
chmod 0755 "$ETC"; chmod 0644 "$ETC/passwd" "$ETC/group"

cleanup() {
    rm -rf "$ETC"
    [ -n "$CG" ] || return 0
    local _
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        rmdir "$CG" 2>/dev/null && return 0
        sleep 0.2
    done
    echo "lambda-sandbox: WARNING: could not remove cgroup $CG" >&2
}
trap cleanup EXIT

# --- memory cgroup ---------------------------------------------------------------------------------------------
limit=$((MEMORY * 1024 * 1024))
name=lambda-sandbox-$$
if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
    rel=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
    parent=/sys/fs/cgroup${rel%/}
    if grep -qw memory "$parent/cgroup.subtree_control" 2>/dev/null || echo +memory > "$parent/cgroup.subtree_control" 2>/dev/null; then
        if mkdir "$parent/$name" 2>/dev/null; then
            if echo "$limit" > "$parent/$name/memory.max" 2>/dev/null; then
                echo 0 > "$parent/$name/memory.swap.max" 2>/dev/null || true
                CG=$parent/$name CG_KIND=v2
            else
                rmdir "$parent/$name" 2>/dev/null || true
            fi
        fi
    fi
fi
if [ -z "$CG" ]; then
    rel=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/self/cgroup)
    base=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { print $2; exit }' /proc/mounts)
    if [ -n "$base" ] && [ -n "$rel" ] && [ -d "$base$rel" ] && mkdir "$base${rel%/}/$name" 2>/dev/null; then
        d=$base${rel%/}/$name
        if echo "$limit" > "$d/memory.limit_in_bytes" 2>/dev/null; then
            [ -f "$d/memory.memsw.limit_in_bytes" ] && { echo "$limit" > "$d/memory.memsw.limit_in_bytes" 2>/dev/null || true; }
            CG=$d CG_KIND=v1
        else
            rmdir "$d" 2>/dev/null || true
        fi
    fi
fi
if [ -z "$CG" ]; then
    [ -z "$REQUIRE_CAP" ] || die "no writable memory cgroup (v2 or v1) here, and --require-memory-cap was given"
    echo "lambda-sandbox: WARNING: no writable memory cgroup here: running WITHOUT a memory cap of $MEMORY MiB" >&2
fi


# --- bubblewrap ------------------------------------------------------------------------------------------------
bw=(bwrap
    --ro-bind / /
    --size $((TMP_SIZE * 1024 * 1024)) --tmpfs /tmp
    --proc /proc
    --tmpfs /dev
    --dev-bind /dev/null /dev/null --dev-bind /dev/zero /dev/zero
    --dev-bind /dev/random /dev/random --dev-bind /dev/urandom /dev/urandom
    --remount-ro /dev
    --ro-bind "$ETC/passwd" /etc/passwd --ro-bind "$ETC/group" /etc/group
    --unshare-user --unshare-ipc --unshare-pid --unshare-uts --die-with-parent
    --setenv AWS_LAMBDA_FUNCTION_MEMORY_SIZE "$MEMORY"
    --setenv TMPDIR /tmp)
# A checkout (or RUNTIME_DIR) under /tmp would be hidden by the sandbox's own /tmp: bind it back, read-only.
repo_root=$(cd "$(dirname "$0")/.." && pwd)
for keep in "$repo_root" "${RUNTIME_DIR:-}"; do
    case "$keep/" in /tmp/?*) bw+=(--ro-bind "$keep" "$keep");; esac
done
if [ -n "$TASK_ROOT" ]; then
    # /var/task does not exist on the host and / is read-only: rebuild /var as a tmpfs holding the host's /var
    # entries (read-only) plus the task root.
    bw+=(--tmpfs /var)
    for e in /var/* /var/.[!.]*; do
        [ -e "$e" ] || [ -L "$e" ] || continue
        [ "$e" = /var/task ] && continue
        if [ -L "$e" ]; then bw+=(--symlink "$(readlink "$e")" "$e"); else bw+=(--ro-bind "$e" "$e"); fi
    done
    bw+=(--ro-bind "$TASK_ROOT" /var/task --remount-ro /var
         --setenv LAMBDA_TASK_ROOT /var/task --chdir /var/task)
else
    bw+=(--chdir /)
fi

# sh: join the cgroup (if any) and set the open-file limit while still root, then drop to the sandbox uid.
set +e
sh -c '
    if [ -n "$1" ]; then echo $$ > "$1/cgroup.procs" || exit 125; fi
    ulimit -n "$2" || exit 125
    shift 2
    exec "$@"
' lambda-sandbox "$CG" "$NOFILE" \
    setpriv --reuid="$SB_UID" --regid="$SB_GID" --clear-groups --inh-caps=-all \
    "${bw[@]}" -- "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' INT TERM HUP
wait "$child"
rc=$?
# wait returns early on a trapped signal: wait for the real end.
while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done
set -e

report="memory_size=${MEMORY}MB tmp_size=${TMP_SIZE}MB"
if [ "$CG_KIND" = v1 ]; then
    peak=$(( $(cat "$CG/memory.max_usage_in_bytes") / 1024 / 1024 ))
    oom=$(awk '$1 == "oom_kill" { print $2 }' "$CG/memory.oom_control" 2>/dev/null)
    report="$report max_memory_used=${peak}MB cgroup=v1 oom_kills=${oom:-?}"
elif [ "$CG_KIND" = v2 ]; then
    peak=$(cat "$CG/memory.peak" 2>/dev/null || echo '?')
    [ "$peak" != '?' ] && peak=$((peak / 1024 / 1024))
    oom=$(awk '$1 == "oom_kill" { print $2 }' "$CG/memory.events" 2>/dev/null)
    report="$report max_memory_used=${peak}MB cgroup=v2 oom_kills=${oom:-?}"
else
    report="$report cgroup=none"
fi
echo "lambda-sandbox: REPORT exit=$rc $report" >&2
if [ -n "${oom:-}" ] && [ "$oom" != 0 ]; then
    echo "lambda-sandbox: the memory cap of $MEMORY MiB was hit: the kernel killed a process (Lambda: 'Runtime exited with error: signal: killed')" >&2
fi
exit "$rc"
