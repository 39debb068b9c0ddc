// After a lazy restart (ckpt_restart --lazy): a filler process outside the
// application puts the memory left empty back, on first touch and in the
// background (launcher/restart/lazy_filler.h). What must not run before the
// memory is complete waits here: fork() (a pthread_atfork handler; a child would not inherit the
// userfaultfd registration and would read zeros where pages are missing) and
// a checkpoint (the image writer reads the memory from a forked copy, and the
// generation the filler reads must stay until every page is in).
// Malloc-free, raw system calls.
#pragma once

namespace ckpt {

// The restored process's end of the socket to the filler and its copy of the
// filler's userfaultfd (-1: nothing to wait for). Called once by the restart
// path. The copy keeps the registration alive if the filler dies: a touch of
// a missing page then waits instead of reading zeros, and the process is
// stopped as soon as the runtime sees the filler gone.
void lazy_fill_adopt(int done_fd, int uffd);

// For the checkpoint thread's poll: readable when the filler has finished or
// died (-1: no filler); then lazy_fill_settle() ends it without blocking long.
int lazy_fill_fd();
void lazy_fill_settle();

// Return once every page is in (at once when there is no lazy restart in
// progress), saying with CKPT_VERBOSE what waits. A filler that died without
// finishing kills the process with one line: its missing pages would
// otherwise read as zeros.
void lazy_fill_wait_before_fork();  // a pthread_atfork prepare handler
void lazy_fill_wait_before_checkpoint();

}  // namespace ckpt
