! api_counter.f90: api_counter.c in Fortran, through the ckpt module
! (api/fortran/ckpt.f90, docs/api.md); runs unchanged without ckpt.
!
!   api_counter_f [STEPS=40] [SLEEP_MS=50] [EVENTS_FILE=api_events.txt]
!
! Prints the same "step I sum=S" lines and "result S" as api_counter.c and
! writes the same EVENTS_FILE lines (see there). The second thread of the
! critical-section checkpoint is an OpenMP section.
! Build: gfortran -fopenmp $(pkg-config --variable=fortran_module ckpt) api_counter.f90
module api_counter_hooks
  use iso_c_binding
  implicit none
  character(len=512) :: trace = ""
  integer, volatile :: pre_b_seen = 0
contains
  subroutine note(what)
    character(*), intent(in) :: what
    if (len_trim(trace) == 0) then
      trace = what
    else
      trace = trim(trace)//" "//what
    end if
  end subroutine
  subroutine pre_a(arg) bind(C)
    type(c_ptr), value :: arg
    call note("pre:A")
  end subroutine
  subroutine pre_b(arg) bind(C)
    type(c_ptr), value :: arg
    call note("pre:B")
    pre_b_seen = 1
  end subroutine
  subroutine resume_a(arg) bind(C)
    type(c_ptr), value :: arg
    call note("resume:A")
  end subroutine
  subroutine resume_b(arg) bind(C)
    type(c_ptr), value :: arg
    call note("resume:B")
  end subroutine
  subroutine restart_a(arg) bind(C)
    type(c_ptr), value :: arg
    call note("restart:A")
  end subroutine
  subroutine restart_b(arg) bind(C)
    type(c_ptr), value :: arg
    call note("restart:B")
  end subroutine
end module

program api_counter
  use iso_c_binding
  use iso_fortran_env, only: output_unit, int64
  use ckpt
  use api_counter_hooks
  implicit none
  interface
    integer(c_int) function usleep(us) bind(C)
      import :: c_int
      integer(c_int), value :: us
    end function
  end interface
  integer :: steps = 40, pause = 50, i, n, r, added, ev
  integer(int64) :: total
  character(len=4096) :: arg, events_file

  events_file = "api_events.txt"
  if (command_argument_count() >= 1) then
    call get_command_argument(1, arg); read (arg, *) steps
  end if
  if (command_argument_count() >= 2) then
    call get_command_argument(2, arg); read (arg, *) pause
  end if
  if (command_argument_count() >= 3) call get_command_argument(3, events_file)
  open (newunit=ev, file=trim(events_file), position="append", action="write")

  added = ckpt_add_hook(CKPT_HOOK_PRE_CHECKPOINT, pre_a)
  r = ckpt_add_hook(CKPT_HOOK_PRE_CHECKPOINT, pre_b)
  r = ckpt_add_hook(CKPT_HOOK_RESUME, resume_a)
  r = ckpt_add_hook(CKPT_HOOK_RESUME, resume_b)
  r = ckpt_add_hook(CKPT_HOOK_RESTART, restart_a)
  r = ckpt_add_hook(CKPT_HOOK_RESTART, restart_b)
  write (ev, '(a,i0,a,i0,a,i0)') "start: running=", merge(1, 0, ckpt_is_running()), &
    " restarts=", ckpt_restart_count(), " add_hook=", added
  flush (ev)

  total = 0
  n = 0
  do i = 1, steps
    total = mod(total*31 + int(i, int64)*i, 1000000007_int64)
    write (output_unit, '(a,i0,a,i0)') "step ", i, " sum=", total
    flush (output_unit)
    if (i == steps/4 .or. i == steps/2 .or. i == 3*steps/4) then
      trace = ""
      if (i == 3*steps/4) then
        r = checkpoint_around_critical_section()
      else
        r = ckpt_checkpoint()
      end if
      n = n + 1
      call event_line(n, i, r)
    end if
    r = usleep(int(pause*1000, c_int))
  end do
  write (output_unit, '(a,i0)') "result ", total
  write (ev, '(a,i0)') "end: restarts=", ckpt_restart_count()
  close (ev)

contains

  subroutine event_line(k, step, result)
    integer, intent(in) :: k, step, result
    character(len=16) :: what
    character(len=512) :: message
    select case (result)
    case (CKPT_RESUMED)
      what = "resumed"
    case (CKPT_RESTARTED)
      what = "restarted"
    case (CKPT_ENOTRUNNING)
      what = "not-running"
    case default
      what = "failed"
    end select
    write (ev, '(a,i0,a,i0,a,a,a,i0,a,a,a)') "ckpt ", k, " at step ", step, ": ", trim(what), &
      " restarts=", ckpt_restart_count(), " hooks=[", trim(trace), "]"
    if (result == CKPT_EFAILED) then
      call ckpt_error(message)
      write (ev, '(a,a)') "error: ", trim(message)
    end if
    flush (ev)
  end subroutine

  ! One OpenMP section enters a critical section and leaves it only after
  ! the checkpoint that the other section asked for has begun.
  integer function checkpoint_around_critical_section() result(res)
    integer, volatile :: inside
    integer :: rc
    inside = 0
    pre_b_seen = 0
    res = 0
    !$omp parallel sections num_threads(2) private(rc)
    !$omp section
    rc = ckpt_critical_begin()
    inside = 1
    if (ckpt_is_running()) then
      do while (pre_b_seen == 0)
        rc = usleep(5000_c_int)
      end do
    end if
    rc = usleep(200000_c_int)
    call note("critical:left")
    rc = ckpt_critical_end()
    !$omp section
    do while (inside == 0)
      rc = usleep(1000_c_int)
    end do
    res = ckpt_checkpoint()
    !$omp end parallel sections
  end function

end program
