#!/bin/bash
# A single-node SLURM cluster on this machine for the scheduler tests
# (tests/e2e/test_sched_slurm.py calls this itself). Idempotent: installs
# Debian's slurm-wlm daemons and munge if missing (as root), writes
# /etc/slurm/slurm.conf for this host, starts munged, slurmctld and slurmd
# as plain daemons (no systemd needed, no cgroups: proctrack/linuxproc), and
# waits until `sinfo` shows the node idle. Exit 0 when the cluster is up; 1
# with one line on stderr saying why not.
#
# Partitions: "batch" (default) and "high" (PriorityTier 2), with
# PreemptType=preempt/partition_prio, PreemptMode=REQUEUE and GraceTime on
# "batch": a job in "high" that needs the node preempts the batch job with
# SIGTERM, then SIGKILL after the grace time, and requeues it.
set -uo pipefail

CONF=/etc/slurm/slurm.conf
GRACE=${CKPT_SLURM_GRACE:-5}
LOGDIR=/var/log/slurm
die() { echo "setup_slurm: $*" >&2; exit 1; }

install_packages() {
  local missing=() p
  for p in slurmctld slurmd slurm-client munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  [[ $(id -u) == 0 ]] || die "missing packages ${missing[*]} (run as root)"
  command -v apt-get >/dev/null || die "not a Debian system: install slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q </dev/null >/dev/null 2>&1
  apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null >/dev/null 2>&1 ||
    die "apt-get install ${missing[*]} failed"
}

write_config() {
  local host cpus mem conf
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
  mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd "$LOGDIR"
  conf=$(cat <<CONF
# Written by ckpt's scripts/setup_slurm.sh: a single-node test cluster.
ClusterName=ckpt
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# A requeued job may start again after cred_expire seconds (default 120).
AuthInfo=cred_expire=10
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
JobRequeue=1
ReturnToService=2
KillWait=30
MinJobAge=600
InactiveLimit=0
SlurmctldTimeout=60
SlurmdTimeout=60
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=batch Nodes=$host Default=YES MaxTime=INFINITE State=UP PriorityTier=1 GraceTime=$GRACE
PartitionName=high Nodes=$host MaxTime=INFINITE State=UP PriorityTier=2
CONF
)
  if [[ ! -f $CONF ]] || [[ "$(cat "$CONF")" != "$conf" ]]; then
    printf '%s\n' "$conf" >"$CONF"
    CONFIG_CHANGED=1
  fi
}

running() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_munge() {
  if [[ ! -s /etc/munge/munge.key ]]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
    chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
  fi
  mkdir -p /run/munge && chown munge:munge /run/munge
  if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    if command -v runuser >/dev/null; then
      runuser -u munge -- /usr/sbin/munged --force || die "munged did not start"
    else
      /usr/sbin/munged --force || die "munged did not start"
    fi
    for _ in $(seq 50); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    munge -n </dev/null | unmunge >/dev/null 2>&1 || die "munge does not work (see /var/log/munge)"
  fi
}

start_slurm() {
  if [[ ${CONFIG_CHANGED:-0} == 1 ]]; then
    running /run/slurmd.pid && kill "$(cat /run/slurmd.pid)"
    running /run/slurmctld.pid && kill "$(cat /run/slurmctld.pid)"
    sleep 1
  fi
  running /run/slurmctld.pid || /usr/sbin/slurmctld || die "slurmctld did not start (see $LOGDIR/slurmctld.log)"
  running /run/slurmd.pid || /usr/sbin/slurmd || die "slurmd did not start (see $LOGDIR/slurmd.log)"
}

wait_idle() {
  local host state
  host=$(hostname -s)
  for _ in $(seq 60); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null | head -1)
    case "$state" in
      idle | mixed | allocated | completing) return 0 ;;
      down* | drain*) scontrol update nodename="$host" state=resume >/dev/null 2>&1 ;;
    esac
    sleep 1
  done
  die "node $host is not idle after 60 s (state '${state:-none}'; see $LOGDIR/slurmctld.log, $LOGDIR/slurmd.log)"
}

[[ $(id -u) == 0 ]] || die "needs root (it writes $CONF and starts the daemons)"
install_packages
write_config
start_munge
start_slurm
wait_idle
echo "setup_slurm: cluster up: $(sinfo -h -o '%P %a %D %T' | tr '\n' ';')"
