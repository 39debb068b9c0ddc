// Bare clone(2) worker threads (see raw_thread.h).
#include "raw_thread.h"

#include <linux/futex.h>
#include <linux/sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "ckpt/sys.h"
#include "futex.h"
#include "thread_suspend.h"

// The new thread's entry and argument are at the top of its stack (fn, arg);
// tls is the thread pointer it starts with (CLONE_SETTLS only).
extern "C" long ckpt_raw_clone(unsigned long flags, void* stack, void* ptid, void* ctid,
                               unsigned long tls);

asm(R"(
	.text
	.globl ckpt_raw_clone
	.hidden ckpt_raw_clone
	.type ckpt_raw_clone, @function
ckpt_raw_clone:
	movq %rcx, %r10
	movl $56, %eax
	syscall
	testq %rax, %rax
	jnz 1f
	popq %rax
	popq %rdi
	andq $-16, %rsp
	callq *%rax
	movl $60, %eax
	xorl %edi, %edi
	syscall
	hlt
1:	ret
	.size ckpt_raw_clone, .-ckpt_raw_clone
)");

namespace ckpt {

namespace {

constexpr unsigned long kThreadFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                       CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID |
                                       CLONE_CHILD_CLEARTID;

long clone_on_stack(RawThread& t, void (*fn)(void*), void* arg, unsigned long flags,
                    unsigned long tls) {
  auto** top = reinterpret_cast<void**>(static_cast<char*>(t.stack) + t.stack_size - 16);
  top[0] = reinterpret_cast<void*>(fn);
  top[1] = arg;
  return ckpt_raw_clone(flags, top, &t.tid, &t.tid, tls);
}

}  // namespace

bool raw_thread_start(RawThread& t, void (*fn)(void*), void* arg, size_t stack_size) {
  long p = sys::mmap(nullptr, stack_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (p < 0) return false;
  t.stack = reinterpret_cast<void*>(p);
  t.stack_size = stack_size;
  long tid = clone_on_stack(t, fn, arg, kThreadFlags, 0);
  if (tid < 0) {
    sys::munmap(t.stack, stack_size);
    t.stack = nullptr;
    return false;
  }
  t.id = static_cast<int32_t>(tid);
  add_runtime_tid(t.id);
  return true;
}

bool raw_thread_start_with_tls(RawThread& t, void (*fn)(void*), void* arg, uint64_t tls) {
  long tid = clone_on_stack(t, fn, arg, kThreadFlags | CLONE_SETTLS, tls);
  if (tid < 0) return false;
  t.id = static_cast<int32_t>(tid);
  return true;
}

void raw_thread_join(RawThread& t) {
  if (!t.stack) return;
  for (;;) {
    int32_t tid = t.tid.load();
    if (tid == 0) break;
    // CLONE_CHILD_CLEARTID wakes with a shared (non-private) futex.
    sys::futex(&t.tid, FUTEX_WAIT, tid, nullptr);
  }
  remove_runtime_tid(t.id);
  sys::munmap(t.stack, t.stack_size);
  t.stack = nullptr;
}

int usable_cpus() {
  uint64_t mask[16] = {};
  long n = sys::call3(SYS_sched_getaffinity, 0, sizeof(mask), reinterpret_cast<long>(mask));
  if (n <= 0) return 1;
  int count = 0;
  for (long i = 0; i < n / 8; i++) count += __builtin_popcountll(mask[i]);
  return count > 0 ? count : 1;
}

}  // namespace ckpt
