#!/bin/bash
# The README's demo: installs what is missing and builds (scripts/setup.sh),
# then runs examples/mixed_memory under ckpt_launch, checkpoints it, kills it,
# restarts it from its image and shows that the restarted run prints exactly
# what an uninterrupted run prints.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build}
scripts/setup.sh
B=$ROOT/$BUILD_DIR
MIB=${DEMO_MIB:-64}
STEPS=${DEMO_STEPS:-80}
SLEEP_MS=50
PROGRAM=("$B/examples/mixed_memory" "$MIB" "$STEPS" "$SLEEP_MS")

demo=$(mktemp -d /tmp/ckpt-demo.XXXXXX)
export CKPT_DIR=$demo/ckpt
mkdir -p "$CKPT_DIR"
export CKPT_COORD_PORT=${CKPT_COORD_PORT:-$(python3 -c \
  'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
app_pid=
cleanup() {
  "$B/launcher/ckpt_command" --quit >/dev/null 2>&1 || true
  [[ -n $app_pid ]] && kill -9 "$app_pid" 2>/dev/null || true
  [[ ${DEMO_KEEP:-0} == 1 ]] && echo "kept $demo" || rm -rf "$demo"
}
trap cleanup EXIT

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
steps_in() { grep -c '^step' "$1" 2>/dev/null || true; }

say "1. Uninterrupted run: mixed_memory, $MIB MiB, $STEPS steps"
"${PROGRAM[@]}" >"$demo/reference.txt"
tail -n 1 "$demo/reference.txt"

say "2. The same program under ckpt_launch (output in $demo/output.txt)"
echo "\$ ckpt_launch ${PROGRAM[*]#$ROOT/} > output.txt &"
"$B/launcher/ckpt_launch" "${PROGRAM[@]}" >"$demo/output.txt" 2>"$demo/launch.err" &
app_pid=$!
for _ in $(seq 600); do
  (($(steps_in "$demo/output.txt") >= 10)) && break
  kill -0 "$app_pid" 2>/dev/null || { echo "the program ended early:"; cat "$demo/launch.err"; exit 1; }
  sleep 0.1
done
echo "running: $(tail -n 1 "$demo/output.txt")"

say "3. Checkpoint (blocks until the images are committed; the program keeps running)"
echo "\$ ckpt_command --checkpoint"
"$B/launcher/ckpt_command" --checkpoint
ls -lL "$CKPT_DIR"/ckpt_*.img
info=$B/launcher/ckpt_info
[[ -x $info ]] || info=$B/launcher/ckpt_info
"$info" "$CKPT_DIR"/ckpt_*.img >"$demo/info.txt"
head -n 12 "$demo/info.txt"
echo "..."

say "4. Kill the computation"
sleep 0.5
echo "\$ ckpt_command --kill"
"$B/launcher/ckpt_command" --kill || true
kill -9 "$app_pid" 2>/dev/null || true
{ wait "$app_pid"; } 2>/dev/null || true
app_pid=
echo "killed after step $(($(steps_in "$demo/output.txt") - 1)) of $STEPS"

say "5. Restart from the image (in the foreground, until the program exits)"
echo "\$ ckpt_restart \$CKPT_DIR/ckpt_*.img"
set +e
"$B/launcher/ckpt_restart" "$CKPT_DIR"/ckpt_*.img
rc=$?
set -e
echo "exit status $rc"

say "6. Compare with the uninterrupted run"
echo "restarted:     $(tail -n 1 "$demo/output.txt")"
echo "uninterrupted: $(tail -n 1 "$demo/reference.txt")"
if [[ $rc == 0 ]] && cmp -s "$demo/output.txt" "$demo/reference.txt"; then
  echo "SUCCESS: the checkpointed, killed and restarted run printed exactly what the uninterrupted run printed."
else
  echo "FAILURE: the outputs differ:"
  diff "$demo/reference.txt" "$demo/output.txt" | head -n 20 || true
  exit 1
fi
