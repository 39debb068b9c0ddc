# bash completion for the ckpt commands: ckpt_launch, ckpt_command,
# ckpt_restart, ckpt_info, ckpt_coordinator. Installed once per command
# name under share/bash-completion/completions (loaded on demand); the
# option lists are checked against each command's --help by
# tests/completion.py.

_ckpt_options() {
  case "$1" in
    ckpt_launch)
      echo "--host --port --dir --interval --keep --requeue --preempt-signals
            --restart-if-exists --no-file-rollback --embed-files --compress --no-compress
            --full-every --chain-max-percent --mpi-shm --no-mpi-defaults --verbose --help" ;;
    ckpt_command)
      echo "--host --port --dir --checkpoint --kill --status --history --quit
            --interval --json --quiet --help" ;;
    ckpt_restart)
      echo "--host --port --dir --no-file-rollback --verify --lazy --interval --keep
            --requeue --hosts --hostfile --rsh --only-host --round --quiet --json --help" ;;
    ckpt_info)
      echo "--verify --help" ;;
    ckpt_coordinator)
      echo "--port --port-file --listen --ckpt-dir --dir --keep --interval --requeue --timeout
            --max-pending --daemon --exit-on-last --help" ;;
  esac
}

_ckpt() {
  local cur prev cmd
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  cmd="${COMP_WORDS[0]##*/}"
  COMPREPLY=()

  # Values of options that take one.
  case "$prev" in
    --dir|--ckpt-dir)
      COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
    --hostfile|--port-file)
      COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
    --compress)
      COMPREPLY=($(compgen -W "-7 -1 0 1 3 9 19" -- "$cur")); return 0 ;;
    --preempt-signals)
      COMPREPLY=($(compgen -W "USR1 USR2 TERM INT HUP XCPU" -- "$cur")); return 0 ;;
    --host|--port|--interval|--keep|--timeout|--listen|--hosts|--rsh|--only-host|--round|--full-every|--chain-max-percent|--max-pending)
      return 0 ;;
  esac

  # ckpt_launch: the program (after the options or --), then its arguments.
  if [[ $cmd == ckpt_launch ]]; then
    local i=1 w
    while ((i < COMP_CWORD)); do
      w="${COMP_WORDS[i]}"
      case "$w" in
        --)
          if ((i + 1 == COMP_CWORD)); then
            COMPREPLY=($(compgen -c -- "$cur"))
          else
            COMPREPLY=($(compgen -f -- "$cur"))
          fi
          return 0 ;;
        --host|--port|--dir|--ckpt-dir|--interval|--keep|--compress|--preempt-signals|--full-every|--chain-max-percent)
          ((i += 2)) ;;
        -*) ((i += 1)) ;;
        *) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
      esac
    done
  fi

  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_ckpt_options "$cmd")" -- "$cur"))
    return 0
  fi
  case "$cmd" in
    ckpt_launch) COMPREPLY=($(compgen -c -- "$cur")) ;;
    ckpt_restart) COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -X '!*.img' -- "$cur")) ;;
    ckpt_info) COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -X '!*.img' -- "$cur")) ;;
  esac
  return 0
}

complete -F _ckpt ckpt_launch ckpt_command ckpt_restart ckpt_info ckpt_coordinator
