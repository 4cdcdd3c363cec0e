# aprender-shell for zsh: your likely command as grey text after the cursor while you type.
#
# Load it from ~/.zshrc with   eval "$(aprender-shell init zsh)"   or run `aprender-shell install`.
# Suggestions come from the per-user aprender-shell server over one Unix socket per shell; the
# request goes out when the line changes and the answer is read by a `zle -F` handler, so typing
# never waits. Every command run is sent back to the server to be learned.
#
# With zsh-autosuggestions loaded (before or after this file), aprender-shell becomes one of its
# strategies, `aprender`, and draws nothing itself: its widgets, keys and settings stay as they
# are (what they do with our suggestions is told to the server, as our own widgets tell it).
# Without it, aprender-shell shows the suggestion with widgets of its own:
#
#   Right arrow, End        accept the whole suggestion (at the end of the line; else as usual)
#   Alt-F, Ctrl-Right       accept the next word of it
#   aprender-shell-execute  a widget that accepts the suggestion and runs the line; bind it with
#                           bindkey '^[^M' aprender-shell-execute   (Alt-Enter, for example)
#
# In both modes, Ctrl-R (the aprender-shell-search widget) shows your past commands ranked for
# this moment, in fzf (or a built-in list): Enter puts one on the line, Esc gives the line back.
#
# Settings (read at every use, so they may be changed at any time):
#   APRENDER_SHELL_HIGHLIGHT     region_highlight style of the suggestion (default: fg=8)
#   APRENDER_SHELL_MAX_BUFFER    longest line that gets a suggestion (default: the longest
#                                command the model learns, filled in by init)
#   APRENDER_SHELL_EMPTY_LINE    what an empty line shows: confident (the default) the likely
#                                next command when the server is sure enough of it, always
#                                whatever it suggests, 0 nothing (and asks nothing)
#   APRENDER_SHELL_AGENT_VARS    the environment variables that mean a coding agent or a script
#                                runs this shell, as VARIABLE=name (VARIABLE=*: its value names
#                                it); replaces the defaults (README, "Commands run by agents")
#   APRENDER_SHELL_RECORD_SPACE  set to 1 to learn commands typed with a leading space too
#   APRENDER_SHELL_TIMEOUT       seconds the zsh-autosuggestions strategy waits for an answer
#                                (default: 0.5 in its synchronous mode, 2 in its async worker)
#   APRENDER_SHELL_DISABLE       set to stop suggesting and recording in this shell
#   APRENDER_SHELL_DEBUG         set to see why a suggestion could not be fetched
#   APRENDER_SHELL_CTRL_R        set to 0 to keep zsh's own Ctrl-R (read when this file is loaded)
#   APRENDER_SHELL_FZF           set to 0 to pick in the built-in list even where fzf is installed

[[ -o interactive ]] || return 0

# The lines marked "@init" are rewritten by `aprender-shell init` with this install's values.
typeset -ga _aprender_shell_cmd=(aprender-shell)  # @init
typeset -g _aprender_shell_socket=''  # @init
# uninstall deletes the marker file; from then on this shell starts no server.
typeset -g _aprender_shell_marker=''  # @init
# The longest line the server answers for (aprender_shell.limits.MAX_COMMAND_CHARS).
typeset -gi _aprender_shell_max_command=0  # @init
# The agents' variables (aprender_shell.limits.AGENT_VARIABLES).
typeset -g _aprender_shell_agent_vars=''  # @init

# Connection and display state, kept across re-sourcing of this file.
typeset -g _aprender_fd=${_aprender_fd-}          # socket fd, empty when not connected
typeset -gi _aprender_id=${_aprender_id:-0}       # id of the last suggest request sent
typeset -gi _aprender_may_start=${_aprender_may_start:-1}  # whether we may start the server
typeset -g _aprender_mode=${_aprender_mode-}      # own (our widgets) or autosuggest (strategy)
typeset -g _aprender_seen=''      # BUFFER as of the last redraw
typeset -g _aprender_full=''      # the whole suggested command currently shown
typeset -g _aprender_hl=''        # the region_highlight entry painting it, as we added it
typeset -g _aprender_cmd='' _aprender_cwd=''  # the command now running, where it runs
typeset -gi _aprender_running=0
typeset -ga _aprender_prev=()     # the commands before it, most recent last
typeset -gi _aprender_wrapped=${_aprender_wrapped:-0}
typeset -g _aprender_memo=memo=aprender-shell
typeset -gi _aprender_show=1      # whether the last answer read may be shown unasked
# What happened to the suggestions of this line, told to the server when it is done: those
# shown (the first 16), how many, the one taken (whole or a word of it), characters it saved.
typeset -ga _aprender_fb_shown=()
typeset -gi _aprender_fb_count=0 _aprender_fb_saved=0
typeset -g _aprender_fb_taken=''
# Strategy mode: the suggestions our strategy gave on this line (escaped as line-form fields),
# so that one zsh-autosuggestions shows from another strategy is never told as ours. Its async
# worker, a fork of this shell, tells them back through a socket pair: it writes to the tell end.
typeset -ga _aprender_ours=()
typeset -g _aprender_told_fd=${_aprender_told_fd-} _aprender_tell_fd=${_aprender_tell_fd-}

# Where the server listens is aprender-shell's to say (init fills it in); a copy of this file
# sourced as it was shipped knows no server, and stays out of the way.
[[ -n $_aprender_shell_socket ]] || return 0

_aprender_debug() {
  (( ${+APRENDER_SHELL_DEBUG} )) && print -ru2 -- "aprender-shell: $*"
  return 0
}

# REPLY=$1 as one field of the protocol's line form: backslash, tab, newline and CR escaped.
_aprender_field() {
  if [[ $1 != *[$'\\\t\n\r']* ]]; then
    REPLY=$1
    return
  fi
  local s=${1//\\/\\\\}
  s=${s//$'\t'/\\t}
  s=${s//$'\n'/\\n}
  REPLY=${s//$'\r'/\\r}
}

# REPLY=the line-form fields $@, each escaped, joined by tabs.
_aprender_fields() {
  local joined='' item
  for item in "$@"; do
    _aprender_field "$item"
    joined+=$'\t'$REPLY
  done
  REPLY=${joined#$'\t'}
}

# The request line asking for the top suggestion for prefix $2 with id $1, in REPLY.
_aprender_suggest_line() {
  _aprender_fields "$PWD" "$2" "${_aprender_prev[@]}"
  REPLY="suggest"$'\t'"$1"$'\t1\tzsh\t'"$REPLY"
}

# REPLY=the first suggestion of answer line $1 if it answers request $2; fails otherwise.
_aprender_answer_text() {
  local -a fields=("${(@ps:\t:)1}")
  if [[ $fields[1] == error && $fields[2] == "$2" ]]; then
    _aprender_debug "the server says: ${(g::)fields[3]}"
    return 1
  fi
  [[ ( $fields[1] == suggestions || $fields[1] == quiet ) && $fields[2] == "$2" ]] || return 1
  # quiet: an empty line's suggestion the server is not sure enough of to show unasked.
  [[ $fields[1] == suggestions || ${APRENDER_SHELL_EMPTY_LINE-} == always ]]
  _aprender_show=$(( ! $? ))
  # Answers escape \\, \t, \n, \r and \xHH only: echo's escapes, which (g::) undoes.
  REPLY=${(g::)fields[3]-}
}

# Whether the socket $1 and its folder belong to us, so that no other account can listen there.
_aprender_trusted() {
  local socket=$1 folder=${1:h}
  if [[ -L $socket || -L $folder || ! -O $folder || ! -d $folder ]] ||
      [[ -e $socket && ! ( -S $socket && -O $socket ) ]]; then
    _aprender_debug "not connecting: $socket or its folder is not yours, or is a link"
    return 1
  fi
  # A folder others may write to would let them swap the socket after this check.
  local -a private=($folder(N/f:go-w:))
  if (( ! $#private )); then
    _aprender_debug "not connecting: others may write to $folder"
    return 1
  fi
  return 0
}

_aprender_start_server() {
  # Once per shell, and again only after a server we talked to went away (idle exit, kill).
  (( _aprender_may_start )) || return 0
  [[ -z $_aprender_shell_marker || -e $_aprender_shell_marker ]] || return 0
  _aprender_may_start=0
  # The server refuses a foreign folder itself; asking it to would only print an error.
  [[ -e ${_aprender_shell_socket:h} ]] && ! _aprender_trusted $_aprender_shell_socket && return 0
  _aprender_debug "starting the server"
  # `server start` returns once the socket accepts; its end, seen by a zle -F handler, is the
  # moment to ask for the line being typed, without waiting for the next key.
  local fd
  exec {fd}< <("${_aprender_shell_cmd[@]}" server start </dev/null >/dev/null 2>&1; print)
  zle -F -w $fd _aprender-started 2>/dev/null
}

# zle -F handler: the server start we ran has finished.
_aprender-started() {
  emulate -L zsh
  local fd=$1
  zle -F $fd
  exec {fd}<&-
  if [[ $_aprender_mode == own && -z $POSTDISPLAY ]] && _aprender_wanted; then
    _aprender_request
  elif [[ $_aprender_mode == autosuggest ]]; then
    # The server made its folder: the channel our strategy's async workers tell through.
    _aprender_open_told
    if [[ -z $BUFFER ]]; then
      _aprender_request_empty
    elif (( ${+widgets[autosuggest-fetch]} )); then
      # What was typed while it started got no suggestion, or one from a worker forked before
      # the channel was open (not told as ours): ask zsh-autosuggestions again.
      zle autosuggest-fetch
    fi
  fi
  return 0
}

_aprender_connect() {
  [[ -n $_aprender_fd ]] && return 0
  if [[ ! -S $_aprender_shell_socket ]]; then
    _aprender_start_server
    return 1
  fi
  _aprender_trusted $_aprender_shell_socket || return 1
  zmodload zsh/net/socket 2>/dev/null || return 1
  if ! zsocket $_aprender_shell_socket 2>/dev/null; then
    _aprender_debug "cannot connect to $_aprender_shell_socket"
    _aprender_start_server
    return 1
  fi
  _aprender_fd=$REPLY
  _aprender_may_start=1
  zle -F -w $_aprender_fd _aprender-answer 2>/dev/null
  return 0
}

_aprender_disconnect() {
  [[ -n $_aprender_fd ]] || return 0
  zle -F $_aprender_fd 2>/dev/null
  { exec {_aprender_fd}>&- } 2>/dev/null  # braces: a bare exec would send our stderr away too
  _aprender_fd=''
}

# Send one request line; its answer is read later by _aprender-answer.
_aprender_send() {
  setopt local_options local_traps
  trap '' PIPE  # a server that went away must not take the shell with it
  local try
  for try in 1 2; do
    _aprender_connect || return 1
    print -r -u $_aprender_fd -- "$1" 2>/dev/null && return 0
    # The server closes connections left silent (a long command, a shell left alone): the
    # first write after it is refused; the line goes again on a new connection.
    _aprender_disconnect
  done
  return 1
}

# Whether the line as it is now should get a suggestion.
_aprender_wanted() {
  (( ${+APRENDER_SHELL_DISABLE} )) && return 1
  [[ -z $PREBUFFER && $BUFFER != *$'\n'* ]] || return 1
  (( $#BUFFER <= ${APRENDER_SHELL_MAX_BUFFER:-$_aprender_shell_max_command} )) || return 1
  # A line typed with a leading space is kept from the server altogether.
  [[ $BUFFER != [[:space:]]* || ${APRENDER_SHELL_RECORD_SPACE:-0} == 1 ]] || return 1
  [[ -n $BUFFER || ${APRENDER_SHELL_EMPTY_LINE:-1} != 0 ]]
}

# Ask for the top suggestion for the current BUFFER; only the answer to this id will be shown.
_aprender_request() {
  emulate -L zsh
  (( ++_aprender_id ))
  _aprender_suggest_line $_aprender_id "$BUFFER"
  _aprender_send "$REPLY"
}

# Paint POSTDISPLAY with the configured highlight, replacing the one entry we own.
_aprender_paint() {
  _aprender_unpaint
  if [[ -n $POSTDISPLAY ]]; then
    _aprender_hl="$#BUFFER $(( $#BUFFER + $#POSTDISPLAY )) ${APRENDER_SHELL_HIGHLIGHT:-fg=8}"
    # zsh 5.9 keeps a memo with the entry wherever it moves it; older zsh drops unknown fields.
    region_highlight+=("$_aprender_hl${_aprender_memo:+,$_aprender_memo}")
  fi
}

# Remove the one region_highlight entry we own, wherever zsh has moved it since we added it.
_aprender_unpaint() {
  if [[ -n $_aprender_memo ]]; then
    (( ${region_highlight[(I)* $_aprender_memo]} )) &&
      region_highlight=("${(@)region_highlight:#* $_aprender_memo}")
  elif [[ -n $_aprender_hl ]]; then
    # Every edit of the line happens before the suggestion, so zsh shifted our entry by
    # exactly as much as the line grew or shrank.
    local -a at=(${=_aprender_hl})
    local -i moved=$(( $#BUFFER - at[1] ))
    region_highlight=("${(@)region_highlight:#(${at[1]} ${at[2]}|$#BUFFER $(( at[2] + moved ))) *}")
  fi
  _aprender_hl=''
}

_aprender_clear() {
  POSTDISPLAY=''
  _aprender_full=''
  _aprender_paint
}

# zle -F handler: one answer line is waiting on the socket (or the server hung up).
_aprender-answer() {
  emulate -L zsh
  local line
  if (( $# > 1 )) || ! IFS= read -r -u $1 line; then
    _aprender_disconnect
    return 0
  fi
  # Only the answer to the latest request is for the line as it is now; records answer "ok".
  _aprender_answer_text "$line" $_aprender_id || return 0
  if [[ $_aprender_mode == autosuggest ]]; then
    (( _aprender_show )) && _aprender_show_empty "$REPLY"
    return 0
  fi
  (( _aprender_show )) || return 0
  [[ $REPLY == "$BUFFER"?* && $CURSOR -ge $#BUFFER ]] && _aprender_wanted || return 0
  [[ $REPLY == "$_aprender_full" && -n $POSTDISPLAY ]] && return 0
  _aprender_full=$REPLY
  if (( ! ${_aprender_fb_shown[(Ie)$REPLY]} )); then
    (( ++_aprender_fb_count ))
    (( $#_aprender_fb_shown < 16 )) && _aprender_fb_shown+=("$REPLY")
  fi
  POSTDISPLAY=${REPLY:$#BUFFER}
  _aprender_paint
  zle -R
}

# zle-line-pre-redraw hook: the place to notice that the line changed, whatever changed it.
_aprender_pre_redraw() {
  if [[ $BUFFER == "$_aprender_seen" ]]; then
    # Unchanged line; but a highlighter may have rebuilt region_highlight without our entry.
    [[ -n $POSTDISPLAY && -n $_aprender_hl && -n $_aprender_memo &&
        ${region_highlight[(I)* $_aprender_memo]} == 0 ]] && _aprender_paint
    return 0
  fi
  emulate -L zsh
  local before=$_aprender_seen
  _aprender_seen=$BUFFER
  if ! _aprender_wanted || [[ $LASTWIDGET == *(history|search)* ]]; then
    [[ -n $POSTDISPLAY || -n $_aprender_hl ]] && _aprender_clear
    return 0
  fi
  if [[ -n $BUFFER && -n $_aprender_full && $_aprender_full == "$BUFFER"?* &&
        $CURSOR -ge $#BUFFER ]]; then
    # Still a prefix of the suggestion: keep showing the rest of it. (An emptied line is not:
    # what it shows is the next command, asked for afresh.)
    POSTDISPLAY=${_aprender_full:$#BUFFER}
    _aprender_paint
    # Typed along the suggestion: it still stands, no need to ask again.
    [[ $BUFFER == "$before"?* ]] && return 0
  else
    [[ -n $POSTDISPLAY || -n $_aprender_full || -n $_aprender_hl ]] && _aprender_clear
  fi
  if (( PENDING )); then
    # More keys already typed (a paste, fast typing): ask after them. Not yet asked, so the
    # line is not marked seen: if those keys edit nothing (a cursor or a widget key), the next
    # redraw asks for it, where before it never was.
    _aprender_seen=$before
    return 0
  fi
  _aprender_request
}

_aprender_line_init() {
  # A line cancelled (Ctrl-C) ends without line-finish: what it showed is told now, none run.
  (( _aprender_fb_count )) && _aprender_feedback ''
  _aprender_seen=''
  _aprender_full=''
  _aprender_hl=''
  _aprender_fb_shown=()
  _aprender_fb_count=0 _aprender_fb_saved=0
  _aprender_fb_taken=''
  if [[ $_aprender_mode == own ]]; then
    # An empty line shows the likely next command.
    _aprender_wanted && _aprender_request
  elif [[ $_aprender_mode == autosuggest ]]; then
    # Workers of the last line may still write; what they gave is not this line's.
    [[ -n $_aprender_told_fd ]] || _aprender_open_told
    _aprender_read_told
    _aprender_ours=()
    # Its async worker starts no server: the shell does, before the first key needs one.
    (( ${+APRENDER_SHELL_DISABLE} )) || _aprender_connect
    _aprender_request_empty
  fi
}

_aprender_line_finish() {
  # The command line stays on screen; the suggestion after it must not.
  if [[ $_aprender_mode == own && ( -n $POSTDISPLAY || -n $_aprender_hl ) ]]; then
    POSTDISPLAY=''
    _aprender_unpaint
    zle -R
  fi
  _aprender_full=''
  _aprender_seen=''
  [[ $_aprender_mode == own ]] && (( _aprender_fb_count )) && _aprender_feedback "$BUFFER"
  _aprender_fb_count=0
}

# Tell the server what became of the suggestions of the line that ran $1 (empty: cancelled):
# the one run (whole) or taken counts for it, the others shown were typed over. Only
# suggestions it made are named.
_aprender_feedback() {
  emulate -L zsh
  local run=$1
  local -i right=${_aprender_fb_shown[(Ie)$run]}
  (( right )) && right=1
  local -a ignored=("${(@)_aprender_fb_shown:#(${(b)run}|${(b)_aprender_fb_taken})}")
  _aprender_fields zsh $_aprender_fb_count $_aprender_fb_saved $right "$_aprender_fb_taken" \
    "${ignored[@]}"
  _aprender_send "feedback"$'\t'"$REPLY"
}

# Call the widget $1 as it was before we wrapped it.
_aprender_call() {
  local widget=$1
  shift
  if (( ${+widgets[_aprender_orig_$widget]} )); then
    zle _aprender_orig_$widget -- "$@"
  else
    zle .$widget -- "$@"
  fi
}

# Wraps forward-char, end-of-line and friends: at the end of the line take the whole suggestion.
_aprender_accept() {
  local widget=$1
  shift
  local -i last=$#BUFFER
  [[ $KEYMAP == vicmd ]] && (( last-- ))
  if [[ $_aprender_mode != own || -z $POSTDISPLAY ]] || (( CURSOR < last )); then
    _aprender_call $widget "$@"
    return
  fi
  _aprender_fb_taken=$_aprender_full
  (( _aprender_fb_saved += $#POSTDISPLAY ))
  BUFFER+=$POSTDISPLAY
  POSTDISPLAY=''
  _aprender_full=''
  _aprender_seen=$BUFFER
  _aprender_unpaint
  _aprender_call $widget "$@"
  local -i ret=$?
  CURSOR=$#BUFFER
  [[ $KEYMAP == vicmd ]] && (( CURSOR-- ))
  return ret
}

# Wraps forward-word and friends: move into the suggestion, taking what the cursor passes.
_aprender_accept_word() {
  local widget=$1
  shift
  if [[ $_aprender_mode != own || -z $POSTDISPLAY ]]; then
    _aprender_call $widget "$@"
    return
  fi
  local before=$BUFFER ghost=$POSTDISPLAY
  _aprender_unpaint
  BUFFER+=$POSTDISPLAY
  POSTDISPLAY=''
  _aprender_call $widget "$@"
  local -i ret=$? at=$CURSOR
  [[ $KEYMAP == vicmd ]] && (( at++ ))
  if (( at > $#before && at < $#BUFFER )) && [[ -z ${${BUFFER[$#before+1,at]}//[[:space:]]/} ]]; then
    # Moving over blanks alone accepts nothing visible: go on to the next word.
    _aprender_call $widget "$@"
    ret=$?
    at=$CURSOR
    [[ $KEYMAP == vicmd ]] && (( at++ ))
  fi
  if (( at > $#before )); then
    _aprender_fb_taken=$before$ghost
    (( _aprender_fb_saved += at - $#before ))
    POSTDISPLAY=${BUFFER:$at}
    BUFFER=${BUFFER[1,at]}
  else
    BUFFER=$before
    POSTDISPLAY=$ghost
  fi
  _aprender_seen=$BUFFER
  _aprender_paint
  return ret
}

# The aprender-shell-execute widget: accept the whole suggestion and run the line.
_aprender_execute() {
  if [[ $_aprender_mode == own && -n $POSTDISPLAY ]]; then
    _aprender_fb_taken=$_aprender_full
    (( _aprender_fb_saved += $#POSTDISPLAY ))
    BUFFER+=$POSTDISPLAY
    POSTDISPLAY=''
    _aprender_full=''
    _aprender_seen=$BUFFER
    _aprender_unpaint
  fi
  # The current accept-line, so that whatever wraps it (a highlighter) still runs.
  zle accept-line
}

# Point the widget $1 at our function $2, keeping what it did before under _aprender_orig_$1.
_aprender_wrap() {
  local widget=$1 kind=${widgets[$1]-}
  case $kind in
    (user:_aprender_w_*) return 0 ;;
    (user:*) zle -N _aprender_orig_$widget ${kind#user:} ;;
    (builtin) ;;
    (*) return 0 ;;  # completion widgets and unknown names stay as they are
  esac
  functions[_aprender_w_$widget]="$2 ${(q)widget} \"\$@\""
  zle -N $widget _aprender_w_$widget
}

_aprender_wrap_widgets() {
  emulate -L zsh
  local widget
  for widget in forward-char end-of-line vi-forward-char vi-end-of-line vi-add-eol; do
    _aprender_wrap $widget _aprender_accept
  done
  for widget in forward-word emacs-forward-word vi-forward-word vi-forward-word-end \
      vi-forward-blank-word vi-forward-blank-word-end; do
    _aprender_wrap $widget _aprender_accept_word
  done
}

# Our own ghost text: wrap the accept widgets and watch every redraw.
_aprender_use_own() {
  emulate -L zsh
  _aprender_mode=own
  # For `aprender-shell doctor`, run from this shell: which shell loaded us, how, and its pid.
  typeset -gx APRENDER_SHELL_INTEGRATION=zsh:own:$$
  if (( ! _aprender_wrapped )); then
    _aprender_wrapped=1
    _aprender_wrap_widgets
  fi
  add-zle-hook-widget line-pre-redraw _aprender_pre_redraw
  add-zle-hook-widget line-finish _aprender_line_finish
}

# zsh-autosuggestions is loaded: become its `aprender` strategy and draw nothing ourselves.
_aprender_use_autosuggest() {
  emulate -L zsh
  _aprender_mode=autosuggest
  typeset -gx APRENDER_SHELL_INTEGRATION=zsh:autosuggest:$$
  add-zle-hook-widget -d line-pre-redraw _aprender_pre_redraw
  add-zle-hook-widget -d line-finish _aprender_line_finish
  add-zle-hook-widget line-pre-redraw _aprender_emptied
  add-zle-hook-widget line-finish _aprender_as_line_finish
  _aprender_watch_autosuggest
  _aprender_open_told
  local -a chosen=(${=ZSH_AUTOSUGGEST_STRATEGY})
  # Its own default is (history); a list that names us is the user's choice and stays.
  if (( ! ${chosen[(Ie)aprender]} )); then
    typeset -ga ZSH_AUTOSUGGEST_STRATEGY=(aprender ${chosen:#aprender})
    (( $#chosen )) || ZSH_AUTOSUGGEST_STRATEGY+=(history)
  fi
  # It then wraps our accept-and-run widget the way it wraps its own autosuggest-execute.
  (( ${ZSH_AUTOSUGGEST_EXECUTE_WIDGETS[(Ie)aprender-shell-execute]} )) ||
    typeset -ga ZSH_AUTOSUGGEST_EXECUTE_WIDGETS=($ZSH_AUTOSUGGEST_EXECUTE_WIDGETS aprender-shell-execute)
}

# zsh-autosuggestions strategy: set `suggestion` to our top suggestion for the prefix $1.
_zsh_autosuggest_strategy_aprender() {
  emulate -L zsh
  typeset -g suggestion
  (( ${+APRENDER_SHELL_DISABLE} )) && return 0
  [[ $1 != *$'\n'* ]] || return 0
  [[ $1 != [[:space:]]* || ${APRENDER_SHELL_RECORD_SPACE:-0} == 1 ]] || return 0
  _aprender_ask "$1" || return 0
  suggestion=$REPLY
  # Noted as ours, for the feedback on this line (the worker tells the shell it forked from).
  _aprender_field "$suggestion"
  if (( ! ZSH_SUBSHELL )); then
    _aprender_ours+=("$REPLY")
  elif [[ -n $_aprender_tell_fd ]]; then
    setopt local_options local_traps
    trap '' PIPE
    print -r -u $_aprender_tell_fd -- "$REPLY" 2>/dev/null
  fi
  return 0
}

# REPLY=the top suggestion for prefix $1, asked and answered before returning (a round trip of
# at most APRENDER_SHELL_TIMEOUT seconds); fails when there is none.
_aprender_ask() {
  local fd id timeout=${APRENDER_SHELL_TIMEOUT:-0.5}
  if (( ZSH_SUBSHELL )); then
    # Waiting costs the user nothing here, and a busy machine may answer late.
    timeout=${APRENDER_SHELL_TIMEOUT:-2}
    # zsh-autosuggestions' async worker, ended at the next key: a connection of its own, so
    # that no answer meant for another request is read, or left unread, on the shell's socket.
    [[ -S $_aprender_shell_socket ]] && _aprender_trusted $_aprender_shell_socket || return 1
    zmodload zsh/net/socket 2>/dev/null || return 1
    zsocket $_aprender_shell_socket 2>/dev/null || return 1
    fd=$REPLY
    id=worker
  else
    _aprender_connect || return 1
    fd=$_aprender_fd
    id=$(( ++_aprender_id ))
  fi
  setopt local_options local_traps
  trap '' PIPE
  _aprender_suggest_line $id "$1"
  print -r -u $fd -- "$REPLY" 2>/dev/null || return 1
  local line
  # Skip what other requests left on a shared socket (records' "ok", older answers).
  while IFS= read -t $timeout -r -u $fd line; do
    _aprender_answer_text "$line" $id && return 0
    [[ $line == (suggestions|quiet|error)$'\t'$id(|$'\t'*) ]] && return 1
  done
  _aprender_debug "no answer within $timeout s"
  return 1
}

# Strategy mode: ask for the likely next command for the empty line just drawn.
_aprender_request_empty() {
  [[ -z $BUFFER && ${APRENDER_SHELL_EMPTY_LINE:-1} != 0 ]] && (( ! ${+APRENDER_SHELL_DISABLE} )) ||
    return 0
  (( ${+_ZSH_AUTOSUGGEST_DISABLED} )) && return 0
  _aprender_request
}

# Strategy mode, zle-line-pre-redraw hook: a line emptied by an edit (Ctrl-U, a kill) is an
# empty line again, and shows the likely next command as it does at the prompt.
_aprender_emptied() {
  [[ $BUFFER == "$_aprender_seen" ]] && return 0
  _aprender_seen=$BUFFER
  [[ -z $BUFFER ]] || return 0
  (( PENDING )) && return 0  # more keys already typed: the line will not stay empty
  _aprender_request_empty
}

# Strategy mode: show the answer for the empty line, with zsh-autosuggestions' own highlight.
_aprender_show_empty() {
  [[ -n $1 && -z $BUFFER && -z $POSTDISPLAY && -z $PREBUFFER ]] || return 0
  (( ${+functions[_zsh_autosuggest_highlight_apply]} )) || return 0
  # zsh-autosuggestions fetches nothing for an empty line, but accepts what is shown there.
  _zsh_autosuggest_highlight_reset
  POSTDISPLAY=$1
  _zsh_autosuggest_highlight_apply
  _aprender_field "$1"
  _aprender_ours+=("$REPLY")
  _aprender_shown "$1"
  zle -R
}

# Strategy mode: the channel the async workers tell our suggestions through, a connected pair
# of sockets made in our private runtime folder (zsh opens no pipe by itself) and unlinked at
# once. Made when the folder exists (the server's first start makes it); else next line.
_aprender_open_told() {
  [[ -z $_aprender_told_fd && -d ${_aprender_shell_socket:h} ]] || return 0
  _aprender_trusted $_aprender_shell_socket || return 0
  zmodload zsh/net/socket 2>/dev/null && zmodload -F zsh/files b:zf_rm 2>/dev/null || return 0
  local where=${_aprender_shell_socket:h}/told.$$ listening
  zf_rm -f -- $where 2>/dev/null
  zsocket -l $where 2>/dev/null || return 0
  listening=$REPLY
  if zsocket $where 2>/dev/null; then
    _aprender_tell_fd=$REPLY
    if zsocket -a $listening 2>/dev/null; then
      _aprender_told_fd=$REPLY
    else
      exec {_aprender_tell_fd}>&-
      _aprender_tell_fd=''
    fi
  fi
  exec {listening}>&-
  zf_rm -f -- $where 2>/dev/null
  return 0
}

# Strategy mode: take in what the workers told since the last look (never waiting).
_aprender_read_told() {
  [[ -n $_aprender_told_fd ]] || return 0
  local line
  while read -t 0 -r -u $_aprender_told_fd line; do
    _aprender_ours+=("$line")
  done
  (( $#_aprender_ours > 64 )) && _aprender_ours=("${(@)_aprender_ours[-64,-1]}")
  return 0
}

# Strategy mode: zsh-autosuggestions now shows $1 (the whole command); counted if it is ours.
_aprender_shown() {
  _aprender_full=''
  [[ -n $POSTDISPLAY ]] || return 0
  _aprender_read_told
  _aprender_field "$1"
  (( ${_aprender_ours[(Ie)$REPLY]} )) || return 0
  _aprender_full=$1
  if (( ! ${_aprender_fb_shown[(Ie)$1]} )); then
    (( ++_aprender_fb_count ))
    (( $#_aprender_fb_shown < 16 )) && _aprender_fb_shown+=("$1")
  fi
}

# Strategy mode: wrap zsh-autosuggestions' own functions that show and take a suggestion, so
# that what became of ours is told as our widgets tell it. Again if it was loaded again.
_aprender_watch_autosuggest() {
  local name
  for name in suggest accept partial_accept execute; do
    (( ${+functions[_zsh_autosuggest_$name]} )) || continue
    [[ $functions[_zsh_autosuggest_$name] == *_aprender_as_$name* ]] && continue
    functions[_aprender_zas_$name]=$functions[_zsh_autosuggest_$name]
    functions[_zsh_autosuggest_$name]="_aprender_as_$name \"\$@\""
  done
}

_aprender_as_suggest() {
  _aprender_zas_suggest "$@"
  local -i ret=$?
  _aprender_shown "$BUFFER$POSTDISPLAY"
  return ret
}

# The whole suggestion taken (Right, End at the end of the line).
_aprender_as_accept() {
  local before=$BUFFER ghost=$POSTDISPLAY
  _aprender_zas_accept "$@"
  local -i ret=$?
  if [[ -n $ghost && -n $_aprender_full && $BUFFER == "$before$ghost" &&
        $_aprender_full == "$before$ghost" ]]; then
    _aprender_fb_taken=$_aprender_full
    (( _aprender_fb_saved += $#ghost ))
  fi
  return ret
}

# A word of it taken (Alt-F, Ctrl-Right).
_aprender_as_partial_accept() {
  local before=$BUFFER ghost=$POSTDISPLAY
  _aprender_zas_partial_accept "$@"
  local -i ret=$?
  if [[ -n $_aprender_full && $_aprender_full == "$before$ghost" &&
        $#BUFFER -gt $#before && $_aprender_full == "$BUFFER"* ]]; then
    _aprender_fb_taken=$_aprender_full
    (( _aprender_fb_saved += $#BUFFER - $#before ))
  fi
  return ret
}

# Taken and run (autosuggest-execute, aprender-shell-execute): told before the line runs.
_aprender_as_execute() {
  if [[ -n $POSTDISPLAY && -n $_aprender_full && $_aprender_full == "$BUFFER$POSTDISPLAY" ]]; then
    _aprender_fb_taken=$_aprender_full
    (( _aprender_fb_saved += $#POSTDISPLAY ))
  fi
  _aprender_zas_execute "$@"
}

# Strategy mode, line-finish hook: what became of our suggestions on the line run.
_aprender_as_line_finish() {
  [[ $_aprender_mode == autosuggest ]] || return 0
  (( _aprender_fb_count )) && _aprender_feedback "$BUFFER"
  _aprender_fb_count=0
  _aprender_full=''
}

# Pick the mode: zsh-autosuggestions' strategy when it is loaded (whenever it was), else ours.
_aprender_choose_mode() {
  if (( ${+functions[_zsh_autosuggest_start]} )); then
    if [[ $_aprender_mode == autosuggest ]]; then
      _aprender_watch_autosuggest
    else
      _aprender_use_autosuggest
    fi
  elif [[ -z $_aprender_mode ]]; then
    _aprender_use_own
  fi
}

# REPLY=the coding agent or script that runs this shell, named by the first of its variables
# set in the environment (APRENDER_SHELL_AGENT_VARS, else the defaults); empty for a person.
_aprender_agent() {
  REPLY=''
  local entry var
  for entry in ${=APRENDER_SHELL_AGENT_VARS-$_aprender_shell_agent_vars}; do
    var=${entry%%=*}
    [[ $var == [A-Za-z_]* && $var != *[^A-Za-z0-9_]* && -n ${(P)var-} ]] || continue
    REPLY=${entry#*=}
    [[ $entry == *=* && $REPLY != '*' ]] || REPLY=${(P)var}
    REPLY=${REPLY[1,64]}
    return 0
  done
}

_aprender_preexec() {
  # $1 is the line as typed; it is empty when history is off, $3 is the text run then.
  _aprender_cmd=${1:-$3}
  _aprender_cwd=$PWD
  _aprender_running=1
}

_aprender_precmd() {
  local -i code=$?
  # Plugins sourced after us (zsh-autosuggestions among them) are loaded by now.
  _aprender_choose_mode
  (( _aprender_running )) || return 0
  _aprender_running=0
  emulate -L zsh
  local cmd=$_aprender_cmd
  [[ -n ${cmd//[[:space:]]/} ]] || return 0
  (( ${+APRENDER_SHELL_DISABLE} )) && return 0
  # A leading space keeps a command out, whatever HIST_IGNORE_SPACE says.
  [[ $cmd == [[:space:]]* && ${APRENDER_SHELL_RECORD_SPACE:-0} != 1 ]] && return 0
  _aprender_agent
  if [[ -n $REPLY ]]; then
    # Run by a coding agent or a script: kept apart, never suggested unless asked for.
    _aprender_fields "$REPLY" zsh "$_aprender_cwd" "$code" "$cmd" "${_aprender_prev[@]}"
    _aprender_send "record-agent"$'\t'"$REPLY"
  else
    _aprender_fields "$_aprender_cwd" "$code" "$cmd" "${_aprender_prev[@]}"
    _aprender_send "record"$'\tzsh\t'"$REPLY"
  fi
  _aprender_prev+=("$cmd")
  (( $#_aprender_prev > 2 )) && shift _aprender_prev
  return 0
}

# The aprender-shell-search widget (Ctrl-R): pick a past command and put it on the line, unrun.
# Where ours cannot run (uninstalled, no model), zsh's own search runs instead, quietly.
_aprender_search() {
  emulate -L zsh
  local -a args=(search --shell zsh --cwd $PWD)
  local previous chosen
  local -i code=1
  for previous in $_aprender_prev; do args+=(--prev $previous); done
  if [[ -z $_aprender_shell_marker || -e $_aprender_shell_marker ]]; then
    # The picker reads keys from the terminal and draws there; only the choice comes back.
    chosen=$("${_aprender_shell_cmd[@]}" $args -- "$BUFFER" </dev/tty 2>/dev/null)
    code=$?
  fi
  if (( code == 0 )); then
    BUFFER=$chosen
    CURSOR=$#BUFFER
  elif (( code != 130 )); then  # 130: cancelled (Esc)
    zle reset-prompt
    zle history-incremental-search-backward
    return
  fi
  zle reset-prompt
}

_aprender_bind_search() {
  zle -N aprender-shell-search _aprender_search
  [[ ${APRENDER_SHELL_CTRL_R-} == 0 ]] && return 0
  local keymap
  # Not vicmd: Ctrl-R is redo there.
  for keymap in emacs viins; do
    bindkey -M $keymap '^R' aprender-shell-search
  done
}

() {
  emulate -L zsh
  autoload -Uz add-zsh-hook add-zle-hook-widget is-at-least
  is-at-least 5.9 || _aprender_memo=''
  add-zsh-hook preexec _aprender_preexec
  add-zsh-hook precmd _aprender_precmd
  add-zle-hook-widget line-init _aprender_line_init
  zle -N _aprender-answer
  zle -N _aprender-started
  zle -N aprender-shell-execute _aprender_execute
  _aprender_bind_search
  # Loaded after zsh-autosuggestions: join it now, before its first prompt binds its widgets.
  (( ${+functions[_zsh_autosuggest_start]} )) && _aprender_choose_mode
  # End and Ctrl-Right have no binding in zsh's own keymaps; give them their usual meaning.
  local keymap key
  for keymap in emacs viins; do
    for key in '^[[F' '^[OF' '^[[4~' '^[[8~'; do
      bindkey -M $keymap $key end-of-line
    done
    for key in '^[[1;5C' '^[[5C' '^[Oc'; do
      bindkey -M $keymap $key forward-word
    done
  done
}
