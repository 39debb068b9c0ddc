// Bare clone(2) worker threads (see raw_thread.h).
#include "raw_thread.h"

#include <linux/futex.h>
#include <linux/sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "ckpt/sys.h"
#include "futex.h"
#include "thread_suspend.h"

extern "C" long ckpt_raw_clone(unsigned long flags, void* stack, void* ptid, void* ctid,
                               void (*fn)(void*), void* arg);

asm(R"(
	.text
	.globl ckpt_raw_clone
	.hidden ckpt_raw_clone
	.type ckpt_raw_clone, @function
ckpt_raw_clone:
	subq $16, %rsi
	movq %r8, 0(%rsi)
	movq %r9, 8(%rsi)
	movq %rcx, %r10
	xorl %r8d, %r8d
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

bool raw_thread_start(RawThread& t, void (*fn)(void*), void* arg, size_t stack_size) {
  long p = sys::mmap(nullptr, stack_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (p < 0) return false;
  t.stack = reinterpret_cast<void*>(p);
  t.stack_size = stack_size;
  constexpr unsigned long kFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                   CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID |
                                   CLONE_CHILD_CLEARTID;
  void* top = static_cast<char*>(t.stack) + stack_size;
  long tid = ckpt_raw_clone(kFlags, top, &t.tid, &t.tid, fn, arg);
  if (tid < 0) {
    sys::munmap(t.stack, stack_size);
    t.stack = nullptr;
    return false;
  }
  t.id = static_cast<int32_t>(tid);
  add_runtime_tid(t.id);
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
