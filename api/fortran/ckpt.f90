! ckpt: the application API of ckpt for Fortran (docs/api.md).
!
! The same functions as ckpt.h, through ISO_C_BINDING: the module finds the
! entry points that the preloaded libckpt.so exports (ckpt_rt_*) with
! dlsym(RTLD_DEFAULT, ...) from the C library, so a program that uses it has
! no link-time dependency on ckpt and runs unchanged without it (then
! ckpt_is_running() is .false., ckpt_checkpoint() returns CKPT_ENOTRUNNING,
! hooks are never called and critical sections do nothing).
!
! Installed as source (Fortran module files are compiler-specific): compile
! it with the program, e.g.
!   gfortran $(pkg-config --variable=fortran_module ckpt) prog.f90
module ckpt
  use iso_c_binding
  implicit none
  private

  integer(c_int), parameter, public :: CKPT_API_VERSION = 1
  integer(c_int), parameter, public :: CKPT_RESUMED = 1, CKPT_RESTARTED = 2
  integer(c_int), parameter, public :: CKPT_ENOTRUNNING = -1, CKPT_EFAILED = -2, &
                                       CKPT_EDEADLOCK = -3, CKPT_EINVAL = -4, CKPT_EFULL = -5
  integer(c_int), parameter, public :: CKPT_HOOK_PRE_CHECKPOINT = 1, CKPT_HOOK_RESUME = 2, &
                                       CKPT_HOOK_RESTART = 3

  public :: ckpt_hook, ckpt_is_running, ckpt_checkpoint, ckpt_restart_count, ckpt_add_hook, &
            ckpt_critical_begin, ckpt_critical_end, ckpt_error

  ! A hook: a bind(C) subroutine taking the pointer given to ckpt_add_hook.
  abstract interface
    subroutine ckpt_hook(arg) bind(C)
      import :: c_ptr
      type(c_ptr), value :: arg
    end subroutine
  end interface

  abstract interface
    function int_fn() bind(C)
      import :: c_int
      integer(c_int) :: int_fn
    end function
    function add_hook_fn(event, fn, arg) bind(C)
      import :: c_int, c_funptr, c_ptr
      integer(c_int), value :: event
      type(c_funptr), value :: fn
      type(c_ptr), value :: arg
      integer(c_int) :: add_hook_fn
    end function
    function string_fn() bind(C)
      import :: c_ptr
      type(c_ptr) :: string_fn
    end function
  end interface

  interface
    function c_dlsym(handle, name) bind(C, name="dlsym")
      import :: c_ptr, c_funptr, c_char
      type(c_ptr), value :: handle
      character(kind=c_char), dimension(*) :: name
      type(c_funptr) :: c_dlsym
    end function
    function c_strlen(s) bind(C, name="strlen")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: s
      integer(c_size_t) :: c_strlen
    end function
  end interface

contains

  ! The runtime's entry point `name`, or c_null_funptr without ckpt (or with
  ! a runtime of another API version).
  function runtime_symbol(name) result(f)
    character(*), intent(in) :: name
    type(c_funptr) :: f
    procedure(int_fn), pointer :: version
    f = c_dlsym(c_null_ptr, "ckpt_rt_api_version"//c_null_char)
    if (.not. c_associated(f)) return
    call c_f_procpointer(f, version)
    f = c_null_funptr
    if (version() /= CKPT_API_VERSION) return
    f = c_dlsym(c_null_ptr, name//c_null_char)
  end function

  ! Calls the runtime's int(void) entry point `name`, or answers `absent`.
  integer(c_int) function call_int(name, absent)
    character(*), intent(in) :: name
    integer(c_int), intent(in) :: absent
    procedure(int_fn), pointer :: f
    type(c_funptr) :: p
    call_int = absent
    p = runtime_symbol(name)
    if (.not. c_associated(p)) return
    call c_f_procpointer(p, f)
    call_int = f()
  end function

  ! .true. when the program runs under ckpt.
  logical function ckpt_is_running()
    ckpt_is_running = call_int("ckpt_rt_is_running", 0_c_int) == 1
  end function

  ! Asks for a checkpoint of the whole computation and waits until it is
  ! over: CKPT_RESUMED, CKPT_RESTARTED, CKPT_EFAILED, CKPT_ENOTRUNNING or
  ! CKPT_EDEADLOCK (inside a critical section or a hook).
  integer(c_int) function ckpt_checkpoint()
    ckpt_checkpoint = call_int("ckpt_rt_checkpoint", CKPT_ENOTRUNNING)
  end function

  ! How many times this process was restarted (0 without ckpt).
  integer(c_int) function ckpt_restart_count()
    ckpt_restart_count = call_int("ckpt_rt_restart_count", 0_c_int)
  end function

  ! Registers hook(arg) for a CKPT_HOOK_* event: 0, CKPT_ENOTRUNNING,
  ! CKPT_EINVAL or CKPT_EFULL. arg is optional (c_null_ptr).
  integer(c_int) function ckpt_add_hook(event, hook, arg)
    integer(c_int), intent(in) :: event
    procedure(ckpt_hook) :: hook
    type(c_ptr), intent(in), optional :: arg
    procedure(add_hook_fn), pointer :: f
    type(c_funptr) :: p
    type(c_ptr) :: a
    ckpt_add_hook = CKPT_ENOTRUNNING
    p = runtime_symbol("ckpt_rt_add_hook")
    if (.not. c_associated(p)) return
    a = c_null_ptr
    if (present(arg)) a = arg
    call c_f_procpointer(p, f)
    ckpt_add_hook = f(event, c_funloc(hook), a)
  end function

  ! A critical section: checkpoints wait until no thread is inside one.
  integer(c_int) function ckpt_critical_begin()
    ckpt_critical_begin = call_int("ckpt_rt_critical_begin", CKPT_ENOTRUNNING)
  end function

  integer(c_int) function ckpt_critical_end()
    ckpt_critical_end = call_int("ckpt_rt_critical_end", CKPT_ENOTRUNNING)
  end function

  ! Why the last checkpoint this process asked for failed ("" if none).
  subroutine ckpt_error(message)
    character(*), intent(out) :: message
    procedure(string_fn), pointer :: f
    type(c_funptr) :: p
    type(c_ptr) :: s
    character(kind=c_char), pointer :: chars(:)
    integer :: i, n
    message = "not running under ckpt"
    p = runtime_symbol("ckpt_rt_error")
    if (.not. c_associated(p)) return
    call c_f_procpointer(p, f)
    s = f()
    n = int(c_strlen(s))
    call c_f_pointer(s, chars, [n])
    message = ""
    do i = 1, min(n, len(message))
      message(i:i) = chars(i)
    end do
  end subroutine

end module ckpt
