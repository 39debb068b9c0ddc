#!/usr/bin/env python3
"""Each command's --help agrees with its manual page: every long option the
--help output names is an item of the page's OPTIONS section, and every
option the page defines is in --help (--help itself excepted: every command
has it and its page says so). With scdoc, the generated page also names
every option and carries each section of its source. The keys ckpt(7)
documents for the configuration files are those the commands accept.

usage: man_pages.py SCD_DIR BUILT_DIR|- CMD=BINARY...
"""

import os
import re
import subprocess
import sys
import tempfile

OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def help_options(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise SystemExit(f"{binary} --help exited {out.returncode}: {out.stderr.strip()}")
    return set(OPTION.findall(out.stdout)) - {"--help"}


def page_options(scd_path):
    """The options defined by the OPTIONS section's item lines (not
    indented: the descriptions under them are)."""
    defined, in_options, sections = set(), False, []
    with open(scd_path) as f:
        for line in f:
            if line.startswith("# "):
                sections.append(line[2:].strip())
                in_options = line.strip() == "# OPTIONS"
                continue
            if in_options and line.strip() and not line.startswith("\t"):
                defined |= set(OPTION.findall(line.replace("*", " ").replace("_", " ")))
    return defined, sections


def check_built(page_path, options, sections):
    with open(page_path) as f:
        roff = f.read().replace("\\-", "-").replace("\\(hy", "-")
    problems = [f"{page_path} lacks {o}" for o in sorted(options) if o not in roff]
    problems += [f"{page_path} lacks section {s}" for s in sections if f'.SH "{s}"' not in roff
                 and f".SH {s}" not in roff]
    return problems


def config_keys_accepted(binary):
    """The keys the config parser knows, from its error for an unknown one."""
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "ckpt"))
        with open(os.path.join(tmp, "ckpt", "ckpt.conf"), "w") as f:
            f.write("no_such_key = 1\n")
        env = dict(os.environ, XDG_CONFIG_HOME=tmp, CKPT_SITE_CONFIG=os.path.join(tmp, "none"))
        out = subprocess.run([binary, "--history"], capture_output=True, text=True, timeout=30, env=env)
    m = re.search(r"\(known: ([a-z_, ]+)\)", out.stderr)
    if out.returncode != 2 or not m:
        raise SystemExit(f"{binary} with an unknown config key: exit {out.returncode}, {out.stderr!r}")
    return set(m.group(1).split(", "))


def config_keys_documented(scd_path):
    """Keys of the CONFIGURATION FILES items of ckpt(7) ("*keep* = _K_")."""
    keys, inside = set(), False
    with open(scd_path) as f:
        for line in f:
            if line.startswith("# "):
                inside = line.strip() == "# CONFIGURATION FILES"
            elif inside:
                m = re.match(r"\*([a-z_]+)\* = ", line)
                if m:
                    keys.add(m.group(1))
    return keys


def main():
    scd_dir, built_dir, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
    problems, checked = [], 0
    for pair in pairs:
        cmd, binary = pair.split("=", 1)
        scd = os.path.join(scd_dir, f"{cmd}.1.scd")
        in_help = help_options(binary)
        in_page, sections = page_options(scd)
        if "--help" not in in_page:
            problems.append(f"{scd}: no --help item in OPTIONS")
        in_page -= {"--help"}
        for o in sorted(in_help - in_page):
            problems.append(f"{cmd}: --help names {o}, its page ({scd}) does not define it")
        for o in sorted(in_page - in_help):
            problems.append(f"{cmd}: its page defines {o}, --help does not name it")
        if built_dir != "-":
            problems += check_built(os.path.join(built_dir, f"{cmd}.1"), in_page | {"--help"}, sections)
        checked += len(in_help)
        print(f"{cmd}: {len(in_help)} options in --help and page")
    commands = dict(p.split("=", 1) for p in pairs)
    if "ckpt_command" in commands:
        accepted = config_keys_accepted(commands["ckpt_command"])
        documented = config_keys_documented(os.path.join(scd_dir, "ckpt.7.scd"))
        if accepted != documented:
            problems.append(f"ckpt(7) documents config keys {sorted(documented)}, the commands accept "
                            f"{sorted(accepted)}")
        print(f"ckpt(7): {len(documented)} config keys, as accepted")
    if problems:
        print("\n".join(problems))
        return 1
    if checked < 40:
        print(f"only {checked} options checked: did --help lose its option list?")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
