#!/bin/bash
# Runs every test: installs what is missing and builds (scripts/setup.sh),
# runs `meson test`, then prints one summary line "N passed, N failed".
# Exits non-zero if anything failed. Extra arguments go to meson test
# (e.g. ./test.sh --suite e2e).
set -uo pipefail
cd "$(dirname "$0")"
BUILD_DIR=${BUILD_DIR:-build}

if ! scripts/setup.sh; then
  echo "setup or build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

testlog=$BUILD_DIR/meson-logs/testlog.json
rm -f "$testlog"
meson test -C "$BUILD_DIR" --print-errorlogs "$@"
rc=$?

python3 - "$testlog" "$rc" <<'PY'
import json, sys
path, rc = sys.argv[1], int(sys.argv[2])
passed = failed = skipped = 0
try:
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            result = json.loads(line).get("result", "")
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:  # FAIL, UNEXPECTEDPASS, TIMEOUT, ERROR
                failed += 1
except OSError:
    pass
if rc != 0 and failed == 0:
    failed = 1  # meson test itself failed (no log, nothing run)
if skipped:
    print(f"({skipped} skipped)")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
