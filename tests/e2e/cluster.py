"""A closer emulated cluster for the e2e tests of jobs across nodes.

On top of netns_hosts.py's network (bridge ckbr0 with the head node 10.77.0.1,
network namespaces ckh1..3 at 10.77.0.11..13), each host gets a long-lived
namespace holder: `unshare --uts --pid --mount --fork` entered into the host's
network namespace, whose PID 1 is a real OpenSSH server (Debian's
openssh-server). Inside a host:

- its own hostname (UTS), its own pids (PID namespace, /proc mounted afresh:
  pids are small and the same pid can exist on two hosts),
- its own /tmp and /dev/shm (tmpfs), and /etc/hosts naming every host and the
  head node "ckhead" (the head node's own /etc/hosts gets the hosts' names
  for the fixture's lifetime, marked "# ckpt e2e cluster"); the rest of the file system is shared, as a cluster
  shares home and scratch file systems (so job directories must not live
  under /tmp: use a directory from shared_dir()).

The fixture makes a temporary directory (under /var/tmp, which every host
sees) with a client key, per-host host keys and sshd configs, authorized_keys
and an ssh_config (StrictHostKeyChecking=no, UserKnownHostsFile=/dev/null,
the hosts' names), so `ssh -F <dir>/ssh_config ckh2 CMD` works from the head
node and from every host, as on a real cluster.

    c = cluster.Cluster(); c.setup(); ...; c.teardown()
    python3 cluster.py check        (by hand: build, self-check, remove)

setup() raises netns_hosts.Unavailable when namespaces or sshd cannot run.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import netns_hosts

HEAD_NAME = "ckhead"
SSHD = "/usr/sbin/sshd"
Unavailable = netns_hosts.Unavailable


def shared_tmp_paths():
    """The project's checkout and build directory when they lie under /tmp
    (a CI checkout, say): every host sees them again at the same path over
    its private /tmp, as a cluster shares its home file system."""
    here = os.path.dirname(os.path.abspath(__file__))
    paths = {os.path.dirname(os.path.dirname(here)), os.environ.get("CKPT_BUILD_ROOT", "")}
    return sorted(p for p in paths if p.startswith("/tmp/"))


def shared_dir(prefix):
    """A fresh directory every emulated host sees (not under their private /tmp)."""
    return tempfile.mkdtemp(prefix=prefix, dir="/var/tmp")


def kill_stale_daemons():
    """Ends what an earlier run that was killed before its teardown left:
    every process started with a path under /var/tmp/ckpt-cluster-* (its
    sshds, slurmctld, slurmds). Called with the emulated hosts' lock held,
    so no other run's daemons can be among them."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if b"/var/tmp/ckpt-cluster-" in cmdline:
            try:
                os.kill(int(entry), signal.SIGKILL)
            except OSError:
                pass


def _run(argv, what, timeout=30):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise Unavailable(f"{what} failed (status {r.returncode}): {r.stderr.decode(errors='replace').strip()}")
    return r.stdout.decode(errors="replace")


def _write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


class Cluster:
    def __init__(self, hosts=None):
        self.hosts = dict(hosts or netns_hosts.HOSTS)
        self.dir = None
        self.holders = {}  # host -> Popen of its `unshare` holder
        self.pid_base = {}  # host -> the pid its processes count from (see _start_holder)

    @property
    def ssh_config(self):
        return os.path.join(self.dir, "ssh_config")

    def ssh(self):
        """The remote shell as an argv prefix: ssh with this cluster's config."""
        return ["ssh", "-F", self.ssh_config]

    @property
    def ssh_script(self):
        """An executable that is ssh with this cluster's config (for launchers
        that take one program, such as hydra's -launcher-exec)."""
        return os.path.join(self.dir, "ssh")

    def rsh_string(self):
        """The remote shell as one command line (for plm_rsh_agent, --rsh, CKPT_RSH)."""
        return f"ssh -F {self.ssh_config}"

    def setup(self):
        for tool in (SSHD, shutil.which("ssh"), shutil.which("ssh-keygen"), shutil.which("nsenter"),
                     shutil.which("unshare")):
            if not tool or not os.access(tool, os.X_OK):
                raise Unavailable("needs sshd, ssh, ssh-keygen, nsenter and unshare "
                                  "(Debian: openssh-server, openssh-client, util-linux)")
        netns_hosts.setup()
        try:
            kill_stale_daemons()
            self._configure()
            self._add_head_names()
            for host in self.hosts:
                self._start_holder(host)
            self._wait_ready()
        except Exception:
            self.teardown()
            raise

    def _configure(self):
        self.dir = shared_dir("ckpt-cluster-")
        os.chmod(self.dir, 0o755)
        key = os.path.join(self.dir, "id_ed25519")
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], "ssh-keygen (client key)")
        shutil.copy(key + ".pub", os.path.join(self.dir, "authorized_keys"))
        names = [f"127.0.0.1 localhost", f"{netns_hosts.HEAD} {HEAD_NAME}"]
        names += [f"{addr} {host}" for host, addr in self.hosts.items()]
        _write(os.path.join(self.dir, "hosts"), "\n".join(names) + "\n")
        config = [f"Host {host}\n  HostName {addr}\n" for host, addr in self.hosts.items()]
        config.append(f"Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n"
                      f"  IdentityFile {key}\n  IdentitiesOnly yes\n  BatchMode yes\n  LogLevel ERROR\n"
                      f"  ConnectTimeout 5\n  ForwardX11 no\n")
        _write(self.ssh_config, "".join(config))
        _write(self.ssh_script, f'#!/bin/sh\nexec ssh -F {self.ssh_config} "$@"\n', 0o755)
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        for host in self.hosts:
            hdir = os.path.join(self.dir, host)
            os.makedirs(hdir)
            hostkey = os.path.join(hdir, "ssh_host_ed25519_key")
            _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostkey], f"ssh-keygen ({host} host key)")
            _write(os.path.join(hdir, "sshd_config"),
                   f"Port 22\nListenAddress 0.0.0.0\nHostKey {hostkey}\n"
                   f"AuthorizedKeysFile {self.dir}/authorized_keys\nPermitRootLogin prohibit-password\n"
                   "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
                   "PidFile none\nPrintMotd no\nMaxStartups 100\nMaxSessions 100\nLogLevel ERROR\n")

    MARK = "# ckpt e2e cluster"

    def _add_head_names(self):
        """The head node resolves the hosts' names too: lines in its /etc/hosts
        (written in place, marked, removed by teardown)."""
        self._remove_head_names()
        with open("/etc/hosts", "a") as f:
            for host, addr in self.hosts.items():
                f.write(f"{addr} {host} {self.MARK}\n")

    def _remove_head_names(self):
        try:
            with open("/etc/hosts") as f:
                lines = f.readlines()
        except OSError:
            return
        kept = [l for l in lines if not l.rstrip().endswith(self.MARK)]
        if kept != lines:
            with open("/etc/hosts", "r+") as f:
                f.seek(0)
                f.writelines(kept)
                f.truncate()

    def _start_holder(self, host):
        """The host's namespace holder: unshare (UTS, PID, mount) inside its
        network namespace; its PID 1 mounts the host's private /proc, /tmp,
        /dev/shm and /etc/hosts, names the host and becomes sshd."""
        hdir = os.path.join(self.dir, host)
        keep = shared_tmp_paths()
        hold = [f"mkdir -p {hdir}/keep{i} && mount --bind {p} {hdir}/keep{i} && " for i, p in enumerate(keep)]
        back = [f"mkdir -p {p} && mount --bind {hdir}/keep{i} {p} && " for i, p in enumerate(keep)]
        # Where the host's pids start (pid_base: {host: N}); by default every
        # host counts from 1, so the same pids exist on every host.
        base = self.pid_base.get(host)
        start = f"echo {base} > /proc/sys/kernel/ns_last_pid && " if base else ""
        script = (f"hostname {host} && {start}{''.join(hold)}mount -t tmpfs -o mode=1777 tmpfs /tmp && "
                  f"{''.join(back)}"
                  f"mount -t tmpfs -o mode=1777 tmpfs /dev/shm && mount --bind {self.dir}/hosts /etc/hosts && "
                  f"exec {SSHD} -D -e -f {hdir}/sshd_config")
        argv = ["nsenter", f"--net=/run/netns/{host}", "unshare", "--uts", "--pid", "--mount", "--fork",
                "--kill-child", "--propagation", "private", "--mount-proc", "sh", "-c", script]
        log = open(os.path.join(hdir, "sshd.log"), "wb")
        self.holders[host] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                              start_new_session=True)
        log.close()

    def run(self, host, command, timeout=20):
        """(status, stdout, stderr) of `ssh host command` from the head node."""
        r = subprocess.run([*self.ssh(), host, command], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
        return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")

    def _wait_ready(self, timeout=20):
        deadline = time.monotonic() + timeout
        for host in self.hosts:
            while True:
                p = self.holders[host]
                if p.poll() is not None:
                    log = open(os.path.join(self.dir, host, "sshd.log"), errors="replace").read().strip()
                    raise Unavailable(f"{host}: the namespace holder ended (status {p.returncode}): {log[-500:]}")
                try:
                    rc, out, err = self.run(host, "hostname", timeout=10)
                except subprocess.TimeoutExpired:
                    rc, out, err = -1, "", "timeout"
                if rc == 0 and out.strip() == host:
                    break
                if time.monotonic() > deadline:
                    raise Unavailable(f"{host}: `ssh {host} hostname` gave status {rc}, {out.strip()!r}, "
                                      f"{err.strip()[-300:]!r}")
                time.sleep(0.2)

    def check(self):
        """None when every host answers ssh by name with its own hostname, pid
        namespace, /tmp and /dev/shm, and reaches the others by name; else what failed."""
        problems = []
        marker = f"ckpt-cluster-{os.getpid()}"
        for host in self.hosts:
            others = [h for h in self.hosts if h != host]
            cmd = (f"hostname; echo $$; touch /tmp/{marker} /dev/shm/{marker}; ls /tmp /dev/shm | grep -c {marker}; "
                   f"ssh -F {self.ssh_config} {others[0]} hostname")
            rc, out, err = self.run(host, cmd)
            lines = out.split()
            if rc != 0 or len(lines) != 4:
                problems.append(f"{host}: status {rc}, output {out!r}, {err.strip()[-300:]!r}")
                continue
            if lines[0] != host:
                problems.append(f"{host}: hostname {lines[0]}")
            if int(lines[1]) > 10000:
                problems.append(f"{host}: pid {lines[1]} is not from a fresh pid namespace")
            if lines[2] != "2":
                problems.append(f"{host}: /tmp and /dev/shm are not private ({lines[2]} markers)")
            if lines[3] != others[0]:
                problems.append(f"{host}: ssh {others[0]} hostname printed {lines[3]}")
        if os.path.exists(f"/tmp/{marker}") or os.path.exists(f"/dev/shm/{marker}"):
            problems.append("a host's /tmp or /dev/shm is the head node's")
        return "; ".join(problems) or None

    def teardown(self):
        """Ends every holder (their PID namespaces die with them) and removes the network."""
        for host, p in self.holders.items():
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        self.holders = {}
        self._remove_head_names()
        netns_hosts.teardown()
        if self.dir and not os.environ.get("CKPT_E2E_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


if __name__ == "__main__":
    c = Cluster()
    try:
        c.setup()
        bad = c.check()
        print(bad or f"ok (config {c.ssh_config})")
        if len(sys.argv) > 1 and sys.argv[1] == "hold":
            input("cluster up; press enter to tear down ")
    except Unavailable as e:
        sys.exit(f"unavailable: {e}")
    finally:
        c.teardown()
    sys.exit(1 if bad else 0)
