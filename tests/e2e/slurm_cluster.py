"""A real multi-node SLURM cluster on the emulated hosts of cluster.py, for the
e2e tests of batch jobs across nodes (test_slurm_multinode.py).

On top of cluster.Cluster (hosts ckh1..3 with their own network, UTS, PID and
mount namespaces and a real sshd), with Debian's slurm-wlm packages as they
are:

- munged on the head node (its socket under /run, which every host shares);
- slurmctld on the head node (10.77.0.1), with its own configuration file in
  the cluster's directory (SLURM_CONF; ports 6917/6918, so that the
  single-node cluster of scripts/setup_slurm.sh may run beside it), its
  state, logs and pid files there too;
- one slurmd per host, started through ssh on the host (so it lives in the
  host's namespaces), NodeName=ckhN NodeAddr=10.77.0.1N;
- partitions "batch" (default, PriorityTier 1, GraceTime) and "high"
  (PriorityTier 2) with PreemptType=preempt/partition_prio,
  PreemptMode=REQUEUE: a job in "high" that needs a node of a batch job
  preempts it (SIGTERM to every process after the grace time, requeued).

    c = SlurmCluster(); c.setup(); c.env (for sbatch, squeue, ...); c.teardown()
    python3 slurm_cluster.py check      (by hand: up, one job on 3 nodes, down)

setup() raises cluster.Unavailable when SLURM or munge are missing or do not
start; teardown() stops slurmctld (the slurmds die with their hosts).
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import cluster
import netns_hosts

Unavailable = cluster.Unavailable
CTLD_PORT = 6917
SLURMD_PORT = 6918
GRACE = 5  # seconds of the batch partition's GraceTime
CPUS = 2  # per emulated node (they all share this machine's cores)
SLURMCTLD = "/usr/sbin/slurmctld"
SLURMD = "/usr/sbin/slurmd"
MUNGED = "/usr/sbin/munged"


def _munge_works():
    try:
        m = subprocess.run(["munge", "-n"], stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
        u = subprocess.run(["unmunge"], input=m.stdout, capture_output=True, timeout=10)
        return m.returncode == 0 and u.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def start_munge():
    """munged on this machine (as user munge), with a key made once."""
    if _munge_works():
        return
    key = "/etc/munge/munge.key"
    if not os.path.exists(key) or os.path.getsize(key) == 0:
        os.makedirs("/etc/munge", exist_ok=True)
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        shutil.chown(key, "munge", "munge")
        os.chmod(key, 0o400)
    os.makedirs("/run/munge", exist_ok=True)
    shutil.chown("/run/munge", "munge", "munge")
    argv = [MUNGED, "--force"]
    if shutil.which("runuser"):
        argv = ["runuser", "-u", "munge", "--", *argv]
    subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    for _ in range(50):
        if _munge_works():
            return
        time.sleep(0.1)
    raise Unavailable("munged does not work (see /var/log/munge/munged.log)")


class SlurmCluster(cluster.Cluster):
    def __init__(self, hosts=None):
        super().__init__(hosts)
        self.ctld = None
        # Pids differ between nodes, as on a real cluster where each node has
        # run other things before (old hosts packed onto one node must not
        # share pids: ckpt_restart refuses that, see docs/schedulers.md).
        self.pid_base = {h: 1000 * (i + 1) for i, h in enumerate(self.hosts)}

    @property
    def sdir(self):
        return os.path.join(self.dir, "slurm")

    @property
    def conf(self):
        return os.path.join(self.sdir, "slurm.conf")

    @property
    def env(self):
        """The environment for SLURM's commands on this cluster (and the jobs they submit)."""
        return dict(os.environ, SLURM_CONF=self.conf)

    def setup(self):
        for tool in (SLURMCTLD, SLURMD, MUNGED, shutil.which("sbatch"), shutil.which("srun")):
            if not tool or not os.access(tool, os.X_OK):
                raise Unavailable("needs Debian's slurmctld, slurmd, slurm-client and munge")
        if os.geteuid() != 0:
            raise Unavailable("needs root to start the SLURM daemons")
        super().setup()
        try:
            start_munge()
            self._write_config()
            self._start_slurmctld()
            for host in self.hosts:
                self._start_slurmd(host)
            self.wait_nodes(self.hosts, ("idle",), 60)
        except Exception:
            self.teardown()
            raise

    def _write_config(self):
        os.makedirs(self.sdir)
        head = socket.gethostname().split(".")[0]
        nodes = "".join(f"NodeName={h} NodeAddr={a} CPUs={CPUS} RealMemory=1000 State=UNKNOWN\n"
                        for h, a in self.hosts.items())
        names = ",".join(self.hosts)
        d = self.sdir
        text = f"""# The e2e multi-node test cluster (tests/e2e/slurm_cluster.py).
ClusterName=ckptmn
SlurmctldHost={head}({netns_hosts.HEAD})
SlurmctldPort={CTLD_PORT}
SlurmdPort={SLURMD_PORT}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=cred_expire=5
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool-%n
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd-%n.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
JobRequeue=1
ReturnToService=2
KillWait=10
MinJobAge=600
InactiveLimit=0
SlurmctldTimeout=60
SlurmdTimeout=10
MessageTimeout=10
{nodes}PartitionName=batch Nodes={names} Default=YES MaxTime=INFINITE State=UP PriorityTier=1 GraceTime={GRACE}
PartitionName=high Nodes={names} MaxTime=INFINITE State=UP PriorityTier=2
"""
        cluster._write(self.conf, text)
        os.makedirs(os.path.join(d, "state"))
        for h in self.hosts:
            os.makedirs(os.path.join(d, f"spool-{h}"))

    def _start_slurmctld(self):
        log = open(os.path.join(self.sdir, "slurmctld.out"), "wb")
        # -D: in the foreground, our child; -i: ignore state of an earlier cluster.
        self.ctld = subprocess.Popen([SLURMCTLD, "-D", "-i", "-f", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, start_new_session=True, env=self.env)
        log.close()

    def _start_slurmd(self, host):
        """slurmd on `host`, through ssh: it lives in the host's namespaces."""
        rc, out, err = self.run(host, f"SLURM_CONF={self.conf} {SLURMD} -f {self.conf} -N {host}", timeout=30)
        if rc != 0:
            raise Unavailable(f"slurmd on {host} did not start (status {rc}): {err.strip()[-300:]}")

    def stop_slurmd(self, host, sig="KILL"):
        """Ends `host`'s slurmd (a node failure when `sig` is KILL)."""
        return self.run(host, f"kill -{sig} $(cat {self.sdir}/slurmd-{host}.pid)")

    def cut_off(self, host):
        """`host` drops off the network (its link to the bridge goes down):
        slurmd stops answering and the job's processes there can reach no one."""
        subprocess.run(["ip", "link", "set", f"ckv{host[len('ckh'):]}", "down"], capture_output=True, timeout=30)

    def restart_slurmd(self, host):
        self._start_slurmd(host)

    def scmd(self, argv, timeout=30):
        """(status, stdout, stderr) of a SLURM command on the head node."""
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, env=self.env)
        return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")

    def node_states(self):
        """{node: state} as sinfo reports them (idle, allocated, down*, drained, ...)."""
        rc, out, _ = self.scmd(["sinfo", "-h", "-N", "-o", "%N %T"])
        return dict(l.split()[:2] for l in out.splitlines() if len(l.split()) >= 2) if rc == 0 else {}

    def wait_nodes(self, hosts, states, timeout):
        deadline = time.monotonic() + timeout
        got = {}
        while time.monotonic() < deadline:
            if self.ctld and self.ctld.poll() is not None:
                raise Unavailable(f"slurmctld ended (status {self.ctld.returncode}): {self.ctld_log(8)}")
            got = self.node_states()
            if all(got.get(h, "").rstrip("*~#") in states for h in hosts):
                return got
            for h in hosts:
                if got.get(h, "").startswith(("down", "drain")) and "idle" in states:
                    self.scmd(["scontrol", "update", f"nodename={h}", "state=resume"])
            time.sleep(0.5)
        raise Unavailable(f"nodes {','.join(hosts)} are {got} after {timeout}s, expected {'/'.join(states)}; "
                          f"slurmctld: {self.ctld_log(5)}")

    def set_nodes(self, hosts, state, reason="ckpt e2e"):
        if state == "resume":  # only drained or down nodes can be resumed
            now = self.node_states()
            hosts = [h for h in hosts if now.get(h, "").startswith(("drain", "down"))]
            if not hosts:
                return
        argv = ["scontrol", "update", f"nodename={','.join(hosts)}", f"state={state}"]
        if state.lower() in ("drain", "down"):
            argv.append(f"reason={reason}")
        rc, out, err = self.scmd(argv)
        if rc != 0:
            raise RuntimeError(f"{' '.join(argv)}: {err.strip() or out.strip()}")

    def ctld_log(self, lines=20):
        try:
            with open(os.path.join(self.sdir, "slurmctld.log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except (OSError, TypeError):
            return ""

    def teardown(self):
        if self.ctld and self.ctld.poll() is None:
            try:
                os.killpg(self.ctld.pid, signal.SIGTERM)
                self.ctld.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.ctld.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.ctld = None
        super().teardown()  # the hosts' slurmds end with their PID namespaces


def expand_nodelist(text):
    """ckh[1-2],ckh3 -> [ckh1, ckh2, ckh3] (the forms this cluster's names take)."""
    out = []
    for m in re.finditer(r"([^,\[]+)(?:\[([^\]]+)\])?", text):
        prefix, ranges = m.group(1), m.group(2)
        if not ranges:
            out.append(prefix)
            continue
        for part in ranges.split(","):
            lo, _, hi = part.partition("-")
            for n in range(int(lo), int(hi or lo) + 1):
                out.append(f"{prefix}{n:0{len(lo)}d}")
    return out


if __name__ == "__main__":
    c = SlurmCluster()
    try:
        c.setup()
        rc, out, err = c.scmd(["srun", "-N", "3", "hostname"], timeout=60)
        print(f"srun -N 3 hostname: status {rc}: {sorted(out.split())} {err.strip()}")
        if len(sys.argv) > 1 and sys.argv[1] == "hold":
            input(f"cluster up (SLURM_CONF={c.conf}); press enter to tear down ")
    except Unavailable as e:
        sys.exit(f"unavailable: {e}")
    finally:
        c.teardown()
