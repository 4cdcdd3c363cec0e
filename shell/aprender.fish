# aprender-shell for fish: a key that fills the line with your likely command.
#
# Load it with   aprender-shell init fish | source   or run `aprender-shell install --shell fish`,
# which puts a snippet in ~/.config/fish/conf.d/. fish's own autosuggestions stay as they are
# (Right arrow still takes fish's grey text); this adds one key:
#
#   Alt-;  (APRENDER_SHELL_FISH_KEY)   fill the line with the top suggestion for what you typed;
#                                      pressed again, the next of the top five, then what you typed
#   Ctrl-R                             your past commands, ranked for this moment, in fzf (or a
#                                      built-in list): Enter puts one on the line, Esc gives the
#                                      line back
#
# fish cannot open a Unix socket, so each use runs a client once: socat when it is installed,
# else the small relay (a bare Python that only relays lines, and starts the server when none
# runs); no process stays behind per shell. Every command run is sent back to be
# learned from fish_postexec, with its directory and exit status, in the background. A command
# that starts with a space is neither kept by fish nor learned.
#
# Settings:
#   APRENDER_SHELL_FISH_KEY   the key, as `bind` takes it (default: \e\; = Alt-;), read when
#                             this file is loaded
#   APRENDER_SHELL_NO_SOCAT   set to use the relay even where socat is installed
#   APRENDER_SHELL_FISH_TIMEOUT seconds a key waits for the server it starts (default: 2)
#   APRENDER_SHELL_EMPTY_LINE set to 0 for the key to fill nothing on an empty line (a key
#                             pressed there is asked for, so it fills whatever comes)
#   APRENDER_SHELL_AGENT_VARS the environment variables that mean a coding agent or a script
#                             runs this shell, as VARIABLE=name (VARIABLE=*: its value names
#                             it); replaces the defaults (README, "Commands run by agents")
#   APRENDER_SHELL_DISABLE    set to stop suggesting and recording in this shell
#   APRENDER_SHELL_CTRL_R     set to 0 to keep fish's own Ctrl-R (read when this file is loaded)
#   APRENDER_SHELL_FZF        set to 0 to pick in the built-in list even where fzf is installed

status is-interactive; or return 0

# The lines marked "@init" are rewritten by `aprender-shell init` with this install's values:
# the relay, the server's socket, and the file whose presence means the integration is
# installed (nothing is started once it is gone).
set -g _aprender_shell_relay  # @init
set -g _aprender_shell_socket ''  # @init
set -g _aprender_shell_marker ''  # @init
set -g _aprender_shell_cmd aprender-shell  # @init
set -g _aprender_shell_agent_vars ''  # @init
# For `aprender-shell doctor`, run from this shell: which shell loaded us, how, and its pid.
set -gx APRENDER_SHELL_INTEGRATION fish:fill-key:$fish_pid

set -g _aprender_typed ''       # what the user typed before the first press
set -g _aprender_shown ''       # the line we filled in last
set -g _aprender_choice 0       # which suggestion it is (0: what was typed)
set -g _aprender_suggestions
set -g _aprender_prev           # the commands run before, most recent last
set -g _aprender_cwd ''         # where the running command started
# socat, when installed (and neither turned off nor unusable with the socket's path).
set -g _aprender_socat
if not set -q APRENDER_SHELL_NO_SOCAT; and not string match -qr '[:,!\\ ]' -- $_aprender_shell_socket
    set _aprender_socat (command -s socat)
end
# nohup: what a command's record is sent through must outlive fish (below); env where it is
# missing, as fish runs no command whose name expands to nothing.
set -g _aprender_nohup (command -s nohup; or command -s env)

# Whether socat may talk to the socket: installed, and the socket and its folder are ours and
# no link (as zsh's _aprender_trusted), so no other account listens there. Otherwise the relay,
# which checks the folder as aprender-shell does, is used.
function _aprender_socat_usable
    set -q _aprender_socat[1]; or return 1
    set -l folder (string replace -r -- '/[^/]*$' '' $_aprender_shell_socket)
    test -S "$_aprender_shell_socket" -a -O "$_aprender_shell_socket"
    and not test -L "$_aprender_shell_socket" -o -L "$folder"
    and test -d "$folder" -a -O "$folder"
end

# The arguments as one line of the protocol's line form: each field escaped, tabs between.
function _aprender_line
    set -l fields
    for item in $argv
        # A newline splits the field into lines here; joining them with \n escapes it.
        set -a fields (string replace -a -- \\ \\\\ "$item" | string replace -a -- \t '\t' \
            | string replace -a -- \r '\r' | string join '\n')
    end
    string join -- \t $fields
end

# Send the request line built from the arguments; print the answer line.
function _aprender_ask
    set -q _aprender_shell_relay[1]; or return 1
    # Uninstalled (the marker is gone): start nothing.
    test -e "$_aprender_shell_marker"; or return 1
    set -l request (_aprender_line $argv)
    # socat starts in a tenth of the relay's time, but cannot start a server or check its
    # owner: it is used only on the server's socket in our private folder, when it is there.
    if _aprender_socat_usable
        set -l answer (printf '%s\n' $request \
            | $_aprender_socat - UNIX-CONNECT:$_aprender_shell_socket 2>/dev/null)
        and set -q answer[1]
        and printf '%s\n' $answer[1]
        and return 0
    end
    # The relay reads the wait from its environment: set with or without -x, it reaches it.
    set -q APRENDER_SHELL_FISH_TIMEOUT[1]
    and set -lx APRENDER_SHELL_FISH_TIMEOUT $APRENDER_SHELL_FISH_TIMEOUT
    printf '%s\n' $request \
        | $_aprender_shell_relay --once $_aprender_shell_socket $_aprender_shell_marker 2>/dev/null
end

# _aprender_suggestions=the suggestions of the answer line $argv[1], unescaped.
function _aprender_parse
    set -g _aprender_suggestions
    # suggestions TAB id TAB suggestion...
    set -l fields (string split -- \t $argv[1])
    # quiet: the server would not show it unasked; the key asked for it.
    contains -- "$fields[1]" suggestions quiet; and test (count $fields) -gt 2; or return 0
    for field in $fields[3..-1]
        # Every backslash is escaped, so only \\, \t, \n, \r and \xHH occur: %b's own.
        set -a _aprender_suggestions (printf '%b' $field | string collect -N -a)
    end
end

function _aprender_fill
    set -q APRENDER_SHELL_DISABLE; and return 0
    set -l line (commandline | string collect)
    if test "$line" != "$_aprender_shown"; or not set -q _aprender_suggestions[1]
        test -z "$line" -a "$APRENDER_SHELL_EMPTY_LINE" = 0; and return 0
        set -g _aprender_typed "$line"
        set -g _aprender_choice 0
        set -g _aprender_suggestions
        set -l answer (_aprender_ask suggest 1 5 fish "$PWD" "$line" $_aprender_prev)
        or return 0
        _aprender_parse "$answer[1]"
        set -q _aprender_suggestions[1]; or return 0
    end
    # Each press: the next suggestion, and after the last one what was typed.
    set -g _aprender_choice (math "($_aprender_choice + 1) % ("(count $_aprender_suggestions)" + 1)")
    set -l text $_aprender_typed
    test $_aprender_choice -gt 0; and set text $_aprender_suggestions[$_aprender_choice]
    commandline -r -- $text
    commandline -C (string length -- $text)
    set -g _aprender_shown $text
    commandline -f repaint
end

function _aprender_preexec --on-event fish_preexec
    set -g _aprender_cwd $PWD
end

# The coding agent or script that runs this shell, named by the first of its variables set in
# the environment (APRENDER_SHELL_AGENT_VARS, else the defaults); nothing for a person.
function _aprender_agent
    set -l entries (string split -n ' ' -- $_aprender_shell_agent_vars)
    set -q APRENDER_SHELL_AGENT_VARS; and set entries (string split -n ' ' -- $APRENDER_SHELL_AGENT_VARS)
    for entry in $entries
        set -l var (string split -m1 = -- $entry)
        string match -qr '^[A-Za-z_][A-Za-z0-9_]*$' -- $var[1]; or continue
        set -q $var[1]; or continue
        set -l value "$$var[1]"
        test -n "$value"; or continue
        set -l name $var[2]
        test -n "$name" -a "$name" != '*'; or set name $value
        string sub -l 64 -- $name
        return 0
    end
    return 1
end

# What became of the suggestions the key filled in on the line just run ($argv[1]), as the
# arguments of a feedback request: the one run as filled in, or typed on from (a partial one:
# `git commit -m "`), was taken, the others passed over.
function _aprender_feedback_fields
    set -l count (count $_aprender_suggestions)
    test $count -gt 0 -a $_aprender_choice -gt 0; or return 1
    test $_aprender_choice -le $count; and set count $_aprender_choice
    set -l taken ''
    set -l saved 0
    set -l right 0
    if test $_aprender_choice -le (count $_aprender_suggestions)
        set -l filled $_aprender_suggestions[$_aprender_choice]
        set -l head (string sub -l (string length -- "$filled") -- $argv[1] | string collect)
        if test -n "$filled"; and test "$head" = "$filled"
            set taken $filled
            test "$argv[1]" = "$filled"; and set right 1
            set saved (math (string length -- $filled) - (string length -- $_aprender_typed))
        end
    end
    set -l ignored
    for item in $_aprender_suggestions[1..$count]
        test "$item" = "$taken"; or set -a ignored $item
    end
    printf '%s\n' feedback fish $count $saved $right "$taken" $ignored
end

function _aprender_postexec --on-event fish_postexec
    set -l code $status
    set -l feedback (_aprender_feedback_fields $argv[1])
    set -g _aprender_shown ''
    set -g _aprender_suggestions
    set -q APRENDER_SHELL_DISABLE; and return 0
    set -l cmd $argv[1]
    string match -qr '\S' -- $cmd; or return 0
    # A leading space keeps a command private, as it keeps it out of fish's history.
    string match -q ' *' -- $cmd; and return 0
    set -q _aprender_shell_relay[1]; or return 0
    test -e "$_aprender_shell_marker"; or return 0
    set -l where $_aprender_cwd
    test -n "$where"; or set where $PWD
    set -l request (_aprender_line record fish "$where" "$code" "$cmd" $_aprender_prev)
    set -l agent (_aprender_agent)
    # Run by a coding agent or a script: kept apart, never suggested unless asked for.
    and set request (_aprender_line record-agent $agent fish "$where" "$code" "$cmd" $_aprender_prev)
    set -q feedback[1]; and set -a request (_aprender_line $feedback)
    # In the background and disowned: the prompt never waits, and no job notice is printed.
    # Started from an event handler, the client stays in fish's process group, which the
    # terminal hangs up when fish ends (`exit` typed ahead, a window closed): under nohup, the
    # last command and what became of its suggestions still reach the server. The external
    # printf writes them itself: what fish's own printf writes into the pipe is lost with fish.
    if _aprender_socat_usable
        command printf '%s\n' $request | $_aprender_nohup $_aprender_socat - \
            UNIX-CONNECT:$_aprender_shell_socket >/dev/null 2>&1 &
    else
        command printf '%s\n' $request | $_aprender_nohup $_aprender_shell_relay --once \
            $_aprender_shell_socket $_aprender_shell_marker >/dev/null 2>&1 &
    end
    disown 2>/dev/null
    set -g _aprender_prev $_aprender_prev[-1] "$cmd"
end

# Bound in every mode, and again whenever the key bindings are switched (which erases ours).
function _aprender_bind --on-variable fish_key_bindings
    set -l key \e\;
    set -q APRENDER_SHELL_FISH_KEY; and set key $APRENDER_SHELL_FISH_KEY
    for mode in default insert
        bind -M $mode $key _aprender_fill
    end
end
_aprender_bind

# Ctrl-R: pick a past command (`aprender-shell search`) and put it on the line, unrun. Where
# ours cannot run (uninstalled, no model), fish's own history search runs instead, quietly.
function _aprender_search
    set -l code 1
    set -l chosen
    if test -e "$_aprender_shell_marker"
        set -l args search --shell fish --cwd $PWD
        for previous in $_aprender_prev
            set -a args --prev $previous
        end
        # The picker reads keys from the terminal and draws there; only the choice comes back.
        set chosen ($_aprender_shell_cmd $args -- (commandline | string collect) </dev/tty \
            2>/dev/null | string collect)
        set code $pipestatus[1]
    end
    if test $code -eq 0
        commandline -r -- $chosen
    else if test $code -ne 130  # 130: cancelled (Esc)
        commandline -f repaint history-pager
        return
    end
    commandline -f repaint
end

function _aprender_bind_search --on-variable fish_key_bindings
    test "$APRENDER_SHELL_CTRL_R" = 0; and return 0
    for mode in default insert
        bind -M $mode \cr _aprender_search
    end
end
_aprender_bind_search
