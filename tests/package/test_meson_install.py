"""Packaging: `meson install --destdir` of this build, then the installed
tree (moved away from its prefix) runs the demo program and the application
API (C built with the installed ckpt.h and ckpt.pc, and the installed Python
module) through two checkpoint/kill/restart cycles each
(installed_tree.py). Usage: test_meson_install.py BUILD_DIR"""

import os
import subprocess
import sys
import tempfile

import installed_tree
from installed_tree import harness


def main():
    build = sys.argv[1]
    root = tempfile.mkdtemp(prefix="ckpt-install-")
    r = subprocess.run(["meson", "install", "-C", build, "--destdir", root, "--no-rebuild", "--quiet"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL meson install: {r.stdout[-2000:]}\n{r.stderr[-2000:]}")
        sys.exit(1)
    info = subprocess.run(["meson", "introspect", build, "--buildoptions"], capture_output=True, text=True).stdout
    import json
    prefix = next(o["value"] for o in json.loads(info) if o["name"] == "prefix")
    tree = installed_tree.Tree(root, prefix)
    tree.use()
    harness.log(f"installed into {root}{prefix}")

    def body(job, bins):
        installed_tree.check_locations(job, tree)
        installed_tree.demo(job.subjob("demo"), tree)
        installed_tree.api_c(job.subjob("api_c"), tree)
        installed_tree.api_python(job.subjob("api_python"), tree)

    try:
        harness.main("meson_install", body)
    finally:
        subprocess.run(["rm", "-rf", root])


if __name__ == "__main__":
    main()
