#!/usr/bin/env python3
"""The bash completion script: sourced in bash, it completes each command's
options exactly as its --help lists them (plus --help), completes an option
prefix to the one option, a --dir value to directories only, ckpt_restart's
arguments to checkpoint dirs and images, and ckpt_launch's program to
commands.

usage: completion.py SCRIPT CMD=BINARY...
"""

import os
import re
import subprocess
import sys
import tempfile

OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def complete(script, words, cwd):
    """COMPREPLY for a command line whose last word is being completed."""
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    program = (f"source '{script}'\n"
               f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}\n"
               f"_ckpt\n"
               "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    out = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], capture_output=True,
                         text=True, timeout=30, cwd=cwd)
    if out.returncode != 0:
        raise SystemExit(f"bash failed on {words}: {out.stderr.strip()}")
    return sorted(line for line in out.stdout.split("\n") if line)


def main():
    script, pairs = os.path.abspath(sys.argv[1]), sys.argv[2:]
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        os.mkdir(os.path.join(tmp, "job1"))
        for name in ("ckpt_heat_1.img", "notes.txt"):
            open(os.path.join(tmp, name), "w").close()
        for pair in pairs:
            cmd, binary = pair.split("=", 1)
            help_text = subprocess.run([binary, "--help"], capture_output=True, text=True,
                                       timeout=30).stdout
            wanted = sorted(set(OPTION.findall(help_text)) | {"--help"})
            got = complete(script, [cmd, "-"], tmp)
            if got != wanted:
                problems.append(f"{cmd} --<TAB>: {got}\n  --help lists {wanted}")
            print(f"{cmd}: {len(got)} options complete")
        cases = [
            (["ckpt_command", "--che"], ["--checkpoint"]),
            (["ckpt_command", "--his"], ["--history"]),
            (["ckpt_command", "--dir", ""], ["job1"]),
            (["ckpt_restart", ""], ["ckpt_heat_1.img", "job1"]),
            (["ckpt_restart", "--verify", "j"], ["job1"]),
            (["ckpt_info", "ckpt_"], ["ckpt_heat_1.img"]),
        ]
        for words, expected in cases:
            got = complete(script, words, tmp)
            if got != expected:
                problems.append(f"{' '.join(words)}<TAB>: {got}, expected {expected}")
        launch_prog = complete(script, ["ckpt_launch", "--keep", "3", "bas"], tmp)
        if "bash" not in launch_prog:
            problems.append(f"ckpt_launch --keep 3 bas<TAB> does not complete the command bash: "
                            f"{launch_prog}")
        args = complete(script, ["ckpt_launch", "--", "./sim", "not"], tmp)
        if args != ["notes.txt"]:
            problems.append(f"ckpt_launch -- ./sim not<TAB>: {args}, expected the file notes.txt")
    if problems:
        print("\n".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
