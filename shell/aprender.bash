# shellcheck shell=bash
# aprender-shell for bash: a key that fills the line with your likely command.
#
# Load it from ~/.bashrc with   eval "$(aprender-shell init bash)"   or run `aprender-shell install`.
# Bash cannot draw text after the cursor, so nothing appears while you type. Instead:
#
#   Right arrow (at the end of the line)   fill the line with the top suggestion for what you typed
#   Alt-;  (APRENDER_SHELL_BASH_KEY)       the same, anywhere on the line
#   pressing either again                   cycles through the top 5, then back to what you typed
#   Ctrl-R                                  your past commands, ranked for this moment, in fzf
#                                           (or a built-in list): Enter puts one on the line, Esc
#                                           gives the line back
#
# Suggestions come from the per-user aprender-shell server through one small relay coprocess
# per shell (a bare Python that only relays lines: about 9 MB), started at the first use. Every command run is sent back to be
# learned: through bash-preexec's hooks when it is loaded (load it before this), else through
# PROMPT_COMMAND (set PROMPT_COMMAND before loading this, or add to it).
#
# Settings:
#   APRENDER_SHELL_BASH_KEY      readline key sequence of the suggestion key (default: \e; = Alt-;),
#                                read when this file is loaded
#   APRENDER_SHELL_BASH_TIMEOUT  seconds to wait for an answer after a key press (default: 2)
#   APRENDER_SHELL_EMPTY_LINE    set to 0 for the keys to fill nothing on an empty line (a key
#                                pressed there is asked for, so it fills whatever comes)
#   APRENDER_SHELL_AGENT_VARS    the environment variables that mean a coding agent or a script
#                                runs this shell, as VARIABLE=name (VARIABLE=*: its value names
#                                it); replaces the defaults (README, "Commands run by agents")
#   APRENDER_SHELL_DISABLE       set to stop suggesting and recording in this shell
#   APRENDER_SHELL_CTRL_R        set to 0 to keep bash's own Ctrl-R (read when this file is loaded)
#   APRENDER_SHELL_FZF           set to 0 to pick in the built-in list even where fzf is installed

[[ $- == *i* ]] || return 0

# The lines marked "@init" are rewritten by `aprender-shell init` with this install's values:
# the relay (a bare Python with only what relaying needs), the server's socket, and the file
# whose presence means the integration is installed (no server is started once it is gone).
_aprender_shell_relay=()  # @init
_aprender_shell_socket=''  # @init
_aprender_shell_marker=''  # @init
_aprender_shell_cmd=(aprender-shell)  # @init
_aprender_shell_agent_vars=''  # @init
# For `aprender-shell doctor`, run from this shell: which shell loaded us, how, and its pid.
export APRENDER_SHELL_INTEGRATION=bash:fill-key:$$

_aprender_unread=0       # answers still to come from the coprocess
_aprender_typed=''       # what the user typed before the first press
_aprender_shown=''       # the line we filled in last
_aprender_choice=0       # which suggestion it is
_aprender_suggestions=()
_aprender_cycle_at=''    # $HISTCMD when the cycle began: a command run since ends it
_aprender_prev=()        # the commands run before, most recent last
_aprender_histcmd=''     # history number at the last prompt (PROMPT_COMMAND mode)
_aprender_cmd=''         # the command now running (bash-preexec mode)
_aprender_cwd=''
_aprender_started=''      # $SECONDS when the coprocess was last started

# REPLY=$1 as one field of the protocol's line form: backslash, tab, newline and CR escaped.
_aprender_field() {
  local s=${1//\\/\\\\}
  s=${s//$'\t'/\\t}
  s=${s//$'\n'/\\n}
  REPLY=${s//$'\r'/\\r}
}

# REPLY=the fields of $@ joined by tabs, each escaped.
_aprender_fields() {
  local item out='' sep=''
  for item in "$@"; do
    _aprender_field "$item"
    out+=$sep$REPLY
    sep=$'\t'
  done
  REPLY=$out
}

# _aprender_suggestions=the suggestions of the answer line $1, unescaped.
_aprender_parse() {
  local rest=$1 field
  _aprender_suggestions=()
  # quiet: the server would not show it unasked; the key asked for it.
  [[ $rest == suggestions$'\t'* || $rest == quiet$'\t'* ]] || return 0
  rest=${rest#*$'\t'}
  [[ $rest == *$'\t'* ]] || return 0
  rest=${rest#*$'\t'}  # the id
  while [[ -n $rest ]]; do
    field=${rest%%$'\t'*}
    if [[ $rest == *$'\t'* ]]; then rest=${rest#*$'\t'}; else rest=''; fi
    # The answer escapes every backslash, so only \\, \t, \n, \r and \xHH occur: %b's own.
    printf -v field '%b' "$field"
    _aprender_suggestions+=("$field")
  done
}

# Start the relay coprocess unless it runs (at most every 10 s if it keeps failing).
_aprender_connect() {
  [[ -n ${_APRENDER_CO[1]-} ]] && return 0
  # Uninstalled (the marker is gone) or never initialised: start nothing.
  [[ ${#_aprender_shell_relay[@]} -gt 0 && -e $_aprender_shell_marker ]] || return 1
  [[ -n $_aprender_started && $(( SECONDS - _aprender_started )) -lt 10 ]] && return 1
  _aprender_started=$SECONDS
  # Silenced and disowned: no job notice when it starts or ends.
  # exec: the relay replaces the coprocess's subshell instead of running beside it (2 MB less).
  { coproc _APRENDER_CO { exec "${_aprender_shell_relay[@]}" "$_aprender_shell_socket" \
      "$_aprender_shell_marker" 2>/dev/null; }; } 2>/dev/null
  disown "$_APRENDER_CO_PID" 2>/dev/null
  _aprender_unread=0
  [[ -n ${_APRENDER_CO[1]-} ]]
}

# Send one request line; its answer is read by _aprender_ask or skipped by the next one.
_aprender_send() {
  _aprender_connect || return 1
  local out=${_APRENDER_CO[1]-}
  [[ -n $out ]] || return 1
  # A coprocess that just died must not take the shell with it (SIGPIPE).
  trap '' PIPE
  if printf '%s\n' "$1" >&"$out"; then
    trap - PIPE
    (( _aprender_unread++ ))
    return 0
  fi 2>/dev/null
  trap - PIPE
  return 1
}

# REPLY=the answer to request $1 (answers to earlier requests are skipped).
_aprender_ask() {
  _aprender_send "$1" || return 1
  local line
  while (( _aprender_unread > 0 )); do
    local in=${_APRENDER_CO[0]-}
    [[ -n $in ]] || return 1
    IFS= read -r -t "${APRENDER_SHELL_BASH_TIMEOUT:-2}" -u "$in" line 2>/dev/null || return 1
    (( _aprender_unread-- ))
  done
  REPLY=$line
}

# Forget the fill cycle: its line is gone (run, cancelled or emptied), so nothing it offered or
# typed may come back on another line. Every prompt calls this, Ctrl-C's included.
_aprender_end_cycle() {
  _aprender_shown=''
  _aprender_typed=''
  _aprender_choice=0
  _aprender_suggestions=()
  _aprender_cycle_at=''
}

# Fill the line with the next suggestion for what was typed (the first one on a fresh line).
_aprender_fill() {
  [[ -n ${APRENDER_SHELL_DISABLE+set} ]] && return 0
  # A cycle goes on only on its own line, still as we left it; a command run since (should a
  # later PROMPT_COMMAND have dropped our prompt hook) ends it too.
  if [[ $READLINE_LINE != "$_aprender_shown" || ${#_aprender_suggestions[@]} -eq 0 \
        || $_aprender_cycle_at != "$HISTCMD" ]]; then
    _aprender_end_cycle
    [[ -z $READLINE_LINE && ${APRENDER_SHELL_EMPTY_LINE-} == 0 ]] && return 0
    _aprender_typed=$READLINE_LINE
    _aprender_cycle_at=$HISTCMD
    _aprender_fields suggest 1 5 bash "$PWD" "$READLINE_LINE" "${_aprender_prev[@]}"
    _aprender_ask "$REPLY" || return 0
    _aprender_parse "$REPLY"
    (( ${#_aprender_suggestions[@]} )) || return 0
  else
    # Pressed again: the next suggestion, and after the last one what was typed.
    _aprender_choice=$(( (_aprender_choice + 1) % (${#_aprender_suggestions[@]} + 1) ))
  fi
  if (( _aprender_choice < ${#_aprender_suggestions[@]} )); then
    READLINE_LINE=${_aprender_suggestions[_aprender_choice]}
  else
    READLINE_LINE=$_aprender_typed
  fi
  READLINE_POINT=${#READLINE_LINE}
  _aprender_shown=$READLINE_LINE
}

# Right arrow: at the end of the line, fill it; elsewhere move the cursor as usual.
_aprender_right() {
  if (( READLINE_POINT < ${#READLINE_LINE} )); then
    READLINE_POINT=$(( READLINE_POINT + 1 ))
  else
    _aprender_fill
  fi
}

# Send the command just run, with where it ran, its exit status and the commands before it.
_aprender_record() {
  local cmd=$1 cwd=$2 code=$3
  [[ -n ${APRENDER_SHELL_DISABLE+set} ]] && return 0
  [[ -n ${cmd//[[:space:]]/} ]] || return 0
  # A leading space keeps a command private, whatever HISTCONTROL says.
  [[ $cmd == [[:space:]]* ]] && return 0
  _aprender_agent
  if [[ -n $REPLY ]]; then
    # Run by a coding agent or a script: kept apart, never suggested unless asked for.
    _aprender_fields record-agent "$REPLY" bash "$cwd" "$code" "$cmd" "${_aprender_prev[@]}"
  else
    _aprender_fields record bash "$cwd" "$code" "$cmd" "${_aprender_prev[@]}"
  fi
  _aprender_send "$REPLY"
  _aprender_feedback "$cmd"
  _aprender_prev=("${_aprender_prev[@]: -1}" "$cmd")
}

# REPLY=the coding agent or script that runs this shell, named by the first of its variables
# set in the environment (APRENDER_SHELL_AGENT_VARS, else the defaults); empty for a person.
_aprender_agent() {
  REPLY=''
  local entry var
  local -a entries
  read -r -a entries <<< "${APRENDER_SHELL_AGENT_VARS-$_aprender_shell_agent_vars}"
  for entry in "${entries[@]}"; do
    var=${entry%%=*}
    [[ $var =~ ^[A-Za-z_][A-Za-z0-9_]*$ && -n ${!var-} ]] || continue
    REPLY=${entry#*=}
    [[ $entry == *=* && $REPLY != '*' ]] || REPLY=${!var}
    REPLY=${REPLY:0:64}
    return 0
  done
}

# Tell the server what became of the suggestions the keys filled in on the line just run ($1):
# the one run as filled in, or typed on from (a partial one: `git commit -m "`), was taken,
# the others shown were passed over.
_aprender_feedback() {
  local cmd=$1 count=${#_aprender_suggestions[@]} taken='' saved=0 right=0 item
  local filled=${_aprender_suggestions[_aprender_choice]-}
  (( count )) || return 0
  (( _aprender_choice + 1 < count )) && count=$(( _aprender_choice + 1 ))
  if [[ -n $filled && $cmd == "$filled"* ]]; then
    taken=$filled saved=$(( ${#filled} - ${#_aprender_typed} ))
    [[ $cmd == "$filled" ]] && right=1
  fi
  local -a ignored=()
  for item in "${_aprender_suggestions[@]:0:count}"; do
    [[ $item == "$taken" ]] || ignored+=("$item")
  done
  _aprender_fields feedback bash "$count" "$saved" "$right" "$taken" "${ignored[@]}"
  _aprender_send "$REPLY"
}

# PROMPT_COMMAND mode: the newest history entry, if one was added since the last prompt.
_aprender_prompt() {
  local code=$?
  if [[ -n $_aprender_histcmd && $HISTCMD != "$_aprender_histcmd" ]]; then
    local cmd
    # "  123* command": the number, a '*' if the entry was edited, a space, the command.
    cmd=$(HISTTIMEFORMAT='' builtin history 1)
    cmd=${cmd#"${cmd%%[![:space:]]*}"}
    cmd=${cmd#"${cmd%%[!0-9]*}"}
    _aprender_record "${cmd:2}" "$PWD" "$code"
  fi
  _aprender_histcmd=$HISTCMD
  _aprender_end_cycle
  return "$code"
}

# bash-preexec mode.
_aprender_preexec() {
  _aprender_cmd=$1
  _aprender_cwd=$PWD
}

_aprender_precmd() {
  local code=$?
  if [[ -n $_aprender_cmd ]]; then
    _aprender_record "$_aprender_cmd" "$_aprender_cwd" "$code"
  fi
  _aprender_cmd=''
  _aprender_end_cycle
  return "$code"
}

# Ctrl-R: pick a past command (`aprender-shell search`) and put it on the line, unrun.
# Ctrl-R is a macro of two keys no terminal sends: the first runs this, the second does what it
# left bound: nothing, or bash's own reverse search where ours cannot run (uninstalled, no
# model), so that the key still searches and nothing is printed.
_aprender_search() {
  local chosen arg code=1 then='""' keymap
  local -a args=(search --shell bash --cwd "$PWD")
  for arg in "${_aprender_prev[@]}"; do args+=(--prev "$arg"); done
  if [[ -e $_aprender_shell_marker ]]; then
    # The picker reads keys from the terminal and draws there; only the choice comes back.
    chosen=$("${_aprender_shell_cmd[@]}" "${args[@]}" -- "$READLINE_LINE" </dev/tty 2>/dev/null)
    code=$?
  fi
  if (( code == 0 )); then
    READLINE_LINE=$chosen
    READLINE_POINT=${#chosen}
  elif (( code != 130 )); then  # 130: cancelled (Esc)
    then=reverse-search-history
  fi
  for keymap in emacs vi-insert; do
    bind -m "$keymap" "\"\e[1002~\": $then"
  done
}

_aprender_bind_search() {
  [[ ${APRENDER_SHELL_CTRL_R-} == 0 ]] && return 0
  local keymap
  for keymap in emacs vi-insert; do
    bind -m "$keymap" -x '"\e[1001~": _aprender_search'
    bind -m "$keymap" '"\e[1002~": ""'
    bind -m "$keymap" '"\C-r": "\e[1001~\e[1002~"'
  done
}

_aprender_setup() {
  local keymap key=${APRENDER_SHELL_BASH_KEY:-'\e;'}
  for keymap in emacs vi-insert; do
    bind -m "$keymap" -x "\"$key\": _aprender_fill"
    bind -m "$keymap" -x '"\e[C": _aprender_right'
    bind -m "$keymap" -x '"\eOC": _aprender_right'
  done
  if [[ -n ${bash_preexec_imported-}${__bp_imported-} ]]; then
    # shellcheck disable=SC2034  # bash-preexec reads these arrays
    { preexec_functions+=(_aprender_preexec); precmd_functions+=(_aprender_precmd); }
  elif [[ ";${PROMPT_COMMAND[*]-};" != *";_aprender_prompt;"* ]]; then
    # First, so that it sees the exit status of the command itself.
    PROMPT_COMMAND="_aprender_prompt${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
  fi
}
_aprender_setup
_aprender_bind_search
unset -f _aprender_setup _aprender_bind_search
