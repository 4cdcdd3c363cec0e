# aprender-shell for zsh: your likely command as grey text after the cursor while you type.
#
# Load it from ~/.zshrc with   eval "$(aprender-shell init zsh)"   or run `aprender-shell install`.
# Suggestions come from the per-user aprender-shell server over one Unix socket per shell; the
# request goes out when the line changes and the answer is read by a `zle -F` handler, so typing
# never waits. Every command run is sent back to the server to be learned.
#
#   Right arrow, End        accept the whole suggestion (at the end of the line; else as usual)
#   Alt-F, Ctrl-Right       accept the next word of it
#
# Settings (read at every use, so they may be changed at any time):
#   APRENDER_SHELL_HIGHLIGHT   region_highlight style of the suggestion (default: fg=8)
#   APRENDER_SHELL_MAX_BUFFER  longest line that gets a suggestion (default: 300)
#   APRENDER_SHELL_DISABLE     set to stop suggesting and recording in this shell
#   APRENDER_SHELL_DEBUG       set to see why a suggestion could not be fetched

[[ -o interactive ]] || return 0

# The lines marked "@init" are rewritten by `aprender-shell init` with this install's values.
typeset -ga _aprender_shell_cmd=(aprender-shell)  # @init
typeset -g _aprender_shell_socket=''  # @init
# uninstall deletes the marker file; from then on this shell starts no server.
typeset -g _aprender_shell_marker=''  # @init

# Connection and display state, kept across re-sourcing of this file.
typeset -g _aprender_fd=${_aprender_fd-}          # socket fd, empty when not connected
typeset -gi _aprender_pending=${_aprender_pending:-0}  # answers still to come on the socket
typeset -gi _aprender_may_start=${_aprender_may_start:-1}  # whether we may start the server
typeset -g _aprender_seen=''      # BUFFER as of the last redraw
typeset -g _aprender_full=''      # the whole suggested command currently shown
typeset -g _aprender_hl=''        # the region_highlight entry painting it
typeset -g _aprender_cmd='' _aprender_cwd=''  # the command now running, where it runs
typeset -gi _aprender_running=0
typeset -ga _aprender_prev=()     # the commands before it, most recent last
typeset -gi _aprender_wrapped=0

if [[ -z $_aprender_shell_socket ]]; then
  # The same rule as aprender_shell.paths.runtime_dir(), for a script sourced without `init`.
  if [[ -n $APRENDER_SHELL_HOME ]]; then
    _aprender_shell_socket=$APRENDER_SHELL_HOME/run/server.sock
  elif [[ -n $XDG_RUNTIME_DIR && -d $XDG_RUNTIME_DIR ]]; then
    _aprender_shell_socket=$XDG_RUNTIME_DIR/aprender-shell/server.sock
  else
    _aprender_shell_socket=${XDG_DATA_HOME:-$HOME/.local/share}/aprender-shell/run/server.sock
  fi
fi

_aprender_debug() {
  (( ${+APRENDER_SHELL_DEBUG} )) && print -ru2 -- "aprender-shell: $*"
  return 0
}

# REPLY=$1 as a JSON string: backslash, quote and every control character escaped.
_aprender_json() {
  emulate -L zsh
  setopt extended_glob
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  if [[ $s == *[[:cntrl:]]* ]]; then
    s=${s//$'\n'/\\n}
    s=${s//$'\t'/\\t}
    s=${s//$'\r'/\\r}
    s=${s//(#m)[[:cntrl:]]/\\u${(l:4::0:)$(( [##16] #MATCH ))}}
  fi
  REPLY="\"$s\""
}

# REPLY=the first "text" value of the JSON answer $1, unescaped; fails if there is none.
_aprender_first_text() {
  emulate -L zsh
  setopt extended_glob
  local rest=${1#*\"text\"}
  [[ $rest == "$1" ]] && return 1
  rest=${rest##[[:space:]]#:[[:space:]]#}
  [[ $rest == \"* ]] || return 1
  rest=${rest:1}
  local out='' chunk
  local -i code low
  while :; do
    chunk=${rest%%[\"\\]*}
    out+=$chunk
    rest=${rest:${#chunk}}
    case ${rest[1]} in
      ('"') REPLY=$out; return 0 ;;
      ('') return 1 ;;
    esac
    case ${rest[2]} in
      (n) out+=$'\n' ;;
      (t) out+=$'\t' ;;
      (r) out+=$'\r' ;;
      (b) out+=$'\b' ;;
      (f) out+=$'\f' ;;
      (u)
        [[ ${rest[3,6]} == [[:xdigit:]](#c4) ]] || return 1
        code=$(( 16#${rest[3,6]} ))
        if (( code >= 0xD800 && code <= 0xDBFF )) && [[ ${rest[7,8]} == '\u' &&
            ${rest[9,12]} == [[:xdigit:]](#c4) ]]; then
          # A character beyond the BMP arrives as a UTF-16 surrogate pair.
          low=$(( 16#${rest[9,12]} ))
          if (( low >= 0xDC00 && low <= 0xDFFF )); then
            code=$(( 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00) ))
            rest=${rest:6}
          fi
        fi
        out+=${(#)code}
        rest=${rest:4}
        ;;
      ('') return 1 ;;
      (*) out+=${rest[2]} ;;
    esac
    rest=${rest:2}
  done
}

_aprender_start_server() {
  # Once per shell, and again only after a server we talked to went away (idle exit, kill).
  (( _aprender_may_start )) || return 0
  [[ -z $_aprender_shell_marker || -e $_aprender_shell_marker ]] || return 0
  _aprender_may_start=0
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
  [[ -n $BUFFER && -z $POSTDISPLAY ]] && _aprender_request
  return 0
}

_aprender_connect() {
  [[ -n $_aprender_fd ]] && return 0
  if [[ ! -S $_aprender_shell_socket ]]; then
    _aprender_start_server
    return 1
  fi
  zmodload zsh/net/socket 2>/dev/null || return 1
  if ! zsocket $_aprender_shell_socket 2>/dev/null; then
    _aprender_debug "cannot connect to $_aprender_shell_socket"
    _aprender_start_server
    return 1
  fi
  _aprender_fd=$REPLY
  _aprender_pending=0
  _aprender_may_start=1
  zle -F -w $_aprender_fd _aprender-answer 2>/dev/null
  return 0
}

_aprender_disconnect() {
  [[ -n $_aprender_fd ]] || return 0
  zle -F $_aprender_fd 2>/dev/null
  { exec {_aprender_fd}>&- } 2>/dev/null  # braces: a bare exec would send our stderr away too
  _aprender_fd=''
  _aprender_pending=0
}

# Send one JSON request line; the answer is read later by _aprender-answer.
_aprender_send() {
  _aprender_connect || return 1
  setopt local_options local_traps
  trap '' PIPE  # a server that went away must not take the shell with it
  if ! print -r -u $_aprender_fd -- "$1" 2>/dev/null; then
    _aprender_disconnect
    return 1
  fi
  (( _aprender_pending++ ))
  return 0
}

# REPLY=the commands run before, most recent last, as a JSON array.
_aprender_prev_json() {
  emulate -L zsh
  local prev='' item
  for item in $_aprender_prev; do
    _aprender_json "$item"
    prev+=${prev:+, }$REPLY
  done
  REPLY="[$prev]"
}

# Ask for the top suggestion for the current BUFFER.
_aprender_request() {
  emulate -L zsh
  _aprender_prev_json
  local prev=$REPLY
  _aprender_json "$BUFFER"
  local prefix=$REPLY
  _aprender_json "$PWD"
  _aprender_send "{\"prefix\": $prefix, \"k\": 1, \"prev\": $prev, \"cwd\": $REPLY}"
}

# Paint POSTDISPLAY with the configured highlight, replacing our previous entry.
_aprender_paint() {
  if [[ -n $_aprender_hl ]]; then
    region_highlight=("${(@)region_highlight:#$_aprender_hl}")
    _aprender_hl=''
  fi
  if [[ -n $POSTDISPLAY ]]; then
    _aprender_hl="$#BUFFER $(( $#BUFFER + $#POSTDISPLAY )) ${APRENDER_SHELL_HIGHLIGHT:-fg=8}"
    region_highlight+=("$_aprender_hl")
  fi
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
  (( _aprender_pending > 0 )) && (( _aprender_pending-- ))
  # Answers come back in order: only the last one is for the line as it is now.
  (( _aprender_pending == 0 )) || return 0
  [[ $line == '{"suggestions"'* ]] || return 0
  _aprender_first_text "$line" || return 0
  # Even so, an answer for an older line is dropped: it must extend what is typed now.
  [[ -n $BUFFER && $REPLY == "$BUFFER"?* && $CURSOR -ge $#BUFFER ]] || return 0
  [[ $REPLY == "$_aprender_full" && -n $POSTDISPLAY ]] && return 0
  _aprender_full=$REPLY
  POSTDISPLAY=${REPLY:$#BUFFER}
  _aprender_paint
  zle -R
}

# zle-line-pre-redraw hook: the place to notice that the line changed, whatever changed it.
_aprender_pre_redraw() {
  if [[ $BUFFER == "$_aprender_seen" ]]; then
    # Unchanged line; but a highlighter may have rebuilt region_highlight without our entry.
    [[ -n $POSTDISPLAY && -n $_aprender_hl && ${region_highlight[(Ie)$_aprender_hl]} == 0 ]] &&
      region_highlight+=("$_aprender_hl")
    return 0
  fi
  emulate -L zsh
  local before=$_aprender_seen
  _aprender_seen=$BUFFER
  if [[ -z $BUFFER || -n $PREBUFFER || $BUFFER == *$'\n'* || $LASTWIDGET == *(history|search)* ]] ||
      (( $#BUFFER > ${APRENDER_SHELL_MAX_BUFFER:-300} || ${+APRENDER_SHELL_DISABLE} )); then
    [[ -n $POSTDISPLAY ]] && _aprender_clear
    return 0
  fi
  if [[ -n $_aprender_full && $_aprender_full == "$BUFFER"?* && $CURSOR -ge $#BUFFER ]]; then
    # Still a prefix of the suggestion: keep showing the rest of it.
    POSTDISPLAY=${_aprender_full:$#BUFFER}
    _aprender_paint
    # Typed along the suggestion: it still stands, no need to ask again.
    [[ $BUFFER == "$before"?* ]] && return 0
  else
    [[ -n $POSTDISPLAY || -n $_aprender_full ]] && _aprender_clear
  fi
  (( PENDING )) && return 0  # more keys already typed (a paste, fast typing): ask after them
  _aprender_request
}

_aprender_line_init() {
  _aprender_seen=''
  _aprender_full=''
  _aprender_hl=''
}

_aprender_line_finish() {
  # The command line stays on screen; the suggestion after it must not.
  if [[ -n $POSTDISPLAY ]]; then
    POSTDISPLAY=''
    _aprender_paint
    zle -R
  fi
  _aprender_full=''
  _aprender_seen=''
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
  if [[ -z $POSTDISPLAY ]] || (( CURSOR < last )); then
    _aprender_call $widget "$@"
    return
  fi
  BUFFER+=$POSTDISPLAY
  POSTDISPLAY=''
  _aprender_full=''
  _aprender_seen=$BUFFER
  _aprender_paint
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
  if [[ -z $POSTDISPLAY ]]; then
    _aprender_call $widget "$@"
    return
  fi
  local before=$BUFFER ghost=$POSTDISPLAY
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

_aprender_preexec() {
  # $1 is the line as typed; it is empty when history is off, $3 is the text run then.
  _aprender_cmd=${1:-$3}
  _aprender_cwd=$PWD
  _aprender_running=1
}

_aprender_precmd() {
  local -i code=$?
  # Plugins sourced after us may have replaced the widgets; wrap once more at the first prompt.
  if (( ! _aprender_wrapped )); then
    _aprender_wrapped=1
    _aprender_wrap_widgets
  fi
  (( _aprender_running )) || return 0
  _aprender_running=0
  emulate -L zsh
  local cmd=$_aprender_cmd
  [[ -n ${cmd//[[:space:]]/} ]] || return 0
  (( ${+APRENDER_SHELL_DISABLE} )) && return 0
  # A command hidden from history (HIST_IGNORE_SPACE) is not learned either.
  [[ -o hist_ignore_space && $cmd == ' '* ]] && return 0
  _aprender_prev_json
  local prev=$REPLY
  _aprender_json "$cmd"
  local record=$REPLY
  _aprender_json "$_aprender_cwd"
  _aprender_send "{\"record\": $record, \"cwd\": $REPLY, \"exit\": $code, \"prev\": $prev}"
  _aprender_prev=("${(@)_aprender_prev[-1,-1]}" "$cmd")
  return 0
}

() {
  emulate -L zsh
  autoload -Uz add-zsh-hook add-zle-hook-widget
  add-zsh-hook preexec _aprender_preexec
  add-zsh-hook precmd _aprender_precmd
  add-zle-hook-widget line-pre-redraw _aprender_pre_redraw
  add-zle-hook-widget line-init _aprender_line_init
  add-zle-hook-widget line-finish _aprender_line_finish
  zle -N _aprender-answer
  zle -N _aprender-started
  _aprender_wrap_widgets
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
