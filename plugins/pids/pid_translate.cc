// Pid arguments and results between virtual and real (see pid_translate.h).
#include "pid_translate.h"

namespace ckpt {

int32_t pid_arg_to_real(int32_t pid, const PidTable& pids) {
  if (pid > 0) return pids.to_real(pid);
  if (pid < -1 && pid != INT32_MIN) return -pids.to_real(-pid);
  return pid;
}

id_t waitid_id_to_real(idtype_t type, id_t id, const PidTable& pids) {
  bool names_pid = type == P_PID || (type == P_PGID && id != 0);
  if (!names_pid || id > static_cast<id_t>(INT32_MAX)) return id;
  return static_cast<id_t>(pids.to_real(static_cast<int32_t>(id)));
}

void siginfo_to_virtual(siginfo_t* info, const PidTable& pids) {
  if (!info) return;
  int code = info->si_code;
  bool child = info->si_signo == SIGCHLD && code > 0 && code <= CLD_CONTINUED;
  bool sent = code == SI_USER || code == SI_QUEUE || code == SI_TKILL || code == SI_MESGQ;
  if (child || sent) info->si_pid = pid_result_to_virtual(info->si_pid, pids);
}

const char* translate_proc_path(const char* in, char* buf, size_t n, const PidTable& pids) {
  constexpr char kProc[] = "/proc/";
  constexpr size_t kProcLen = sizeof(kProc) - 1;
  if (!in) return in;
  for (size_t i = 0; i < kProcLen; i++)
    if (in[i] != kProc[i]) return in;
  const char* p = in + kProcLen;
  if (*p < '1' || *p > '9') return in;  // procfs names no pid with a leading 0
  int64_t vpid = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    vpid = vpid * 10 + (*p - '0');
    if (vpid > INT32_MAX) return in;
  }
  if (*p != '/' && *p != 0) return in;  // "/proc/123abc"
  int32_t real = pids.to_real(static_cast<int32_t>(vpid));
  if (real == vpid) return in;

  char digits[12];
  size_t d = 0;
  for (auto v = static_cast<uint32_t>(real); v; v /= 10)
    digits[d++] = static_cast<char>('0' + v % 10);
  size_t rest = 0;
  while (p[rest]) rest++;
  if (kProcLen + d + rest + 1 > n) return in;
  size_t o = 0;
  for (size_t i = 0; i < kProcLen; i++) buf[o++] = kProc[i];
  while (d) buf[o++] = digits[--d];
  for (size_t i = 0; i <= rest; i++) buf[o++] = p[i];  // with the terminating 0
  return buf;
}

}  // namespace ckpt
