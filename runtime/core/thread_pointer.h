// The calling thread's thread pointer (FS base): glibc's struct pthread.
#pragma once

#include <cstdint>

namespace ckpt {

inline uint64_t thread_pointer() {
  uint64_t tp;
  asm volatile("mov %%fs:0, %0" : "=r"(tp));
  return tp;
}

}  // namespace ckpt
