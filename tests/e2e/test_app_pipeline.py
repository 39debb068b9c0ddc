"""e2e (real applications): a shell pipeline of Debian's coreutils, gawk/mawk
and bash. A paced generator (a bash loop that runs `sleep` every line) feeds
`awk | tr | sort | uniq -c | sort | sha256sum` and, through `tee`, a
`cut | md5sum` branch; the checkpoints land while the data streams through
the pipes (bytes in flight, sort holding what it has read, a `sleep` child
in progress). stdout (the generator's step lines and both digests) and the
sorted table must equal an uninterrupted run's after two
checkpoint/kill/restart cycles. Skipped (77) when a tool is missing."""

import shutil

import app_common
import harness

# fd 3: the step lines go straight to stdout while the data goes down the
# pipeline.
SCRIPT = r'''
set -euo pipefail
exec 3>&1
generate() {
  local i x=7
  for ((i = 1; i <= $1; i++)); do
    for ((k = 0; k < 40; k++)); do
      x=$(( (x * 1103515245 + 12345) % 2147483648 ))
      printf '%d,%s,%d\n' "$i" "w$(( x % 613 ))" "$(( x % 1000 ))"
    done
    echo "step $i" >&3
    sleep "$2"
  done
}
generate "$1" "$2" \
  | tee >(cut -d, -f3 | sort -n | md5sum | sed 's/ .*//; s/^/values md5 /' >values.txt) \
  | awk -F, '{ print $2 }' | tr 'a-z' 'A-Z' | sort | uniq -c | sort -k1,1nr -k2,2 >table.txt
wait
sha256sum <table.txt | sed 's/ .*//; s/^/table sha256 /'
cat values.txt
echo done
'''


def body(job, bins):
    tools = ["bash", "awk", "tr", "sort", "uniq", "cut", "tee", "md5sum", "sha256sum", "sed", "sleep"]
    app_common.require(tools, "bash, coreutils, mawk, sed")
    bash = shutil.which("bash")
    sc = harness.Scenario("pipeline", lambda work: [bash, "-c", SCRIPT, "pipeline", "150", "0.06"],
                          outputs=["table.txt", "values.txt"], tree=True)
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("app_pipeline", body)
