"""``init``, ``install`` and ``uninstall``: putting the shell integration in place and out."""

from __future__ import annotations

from pathlib import Path

import click
from click.shell_completion import CompletionItem, FishComplete, add_completion_class

from aprender_shell import paths
from aprender_shell.cli import cli, reports_errors
from aprender_shell.cli.options import display_path
from aprender_shell.fileio import atomic_write_bytes
from aprender_shell.integration import (
    SHELLS,
    RcEdit,
    ShellIntegration,
    detect_shell,
    integration_for,
)
from aprender_shell.integration.base import CTRL_R_NOTE

SHELL_CHOICE = click.Choice(sorted(SHELLS))
SHELL_NAMES = "|".join(sorted(SHELLS))


# zsh's compdef exists only once compinit has run, which .zshrc may do after our block, or never.
_ZSH_COMPDEF = "    compdef _aprender_shell_completion aprender-shell\n"
_ZSH_COMPDEF_LATER = """\
    if (( $+functions[compdef] )); then
        compdef _aprender_shell_completion aprender-shell
    else
        # compinit comes later in .zshrc (or never): register at the first prompt, if it came.
        _aprender_shell_compdef() {
            add-zsh-hook -d precmd _aprender_shell_compdef
            (( $+functions[compdef] )) && compdef _aprender_shell_completion aprender-shell
        }
        autoload -Uz add-zsh-hook && add-zsh-hook precmd _aprender_shell_compdef
    fi
"""


class _FishComplete(FishComplete):
    """fish's completion with one fixed frame, whatever click's version.

    click's own fish frame changed between releases, and 8.4.0's script splits each answer
    on a newline that Python had already turned into a line break, so fish could not parse it.
    Ours prints ``type,value`` per line (a value holding a comma keeps it: only the first
    splits) and is what both the saved script and the answers at Tab use.
    """

    source_template = """\
function %(complete_func)s
    set -l response (env %(complete_var)s=fish_complete COMP_WORDS=(commandline -cp) \
COMP_CWORD=(commandline -t) %(prog_name)s)
    for completion in $response
        set -l metadata (string split -m 1 "," -- $completion)
        switch $metadata[1]
            case dir
                __fish_complete_directories $metadata[2]
            case file
                __fish_complete_path $metadata[2]
            case plain
                echo $metadata[2]
        end
    end
end
complete --no-files --command %(prog_name)s --arguments "(%(complete_func)s)"
"""

    def format_completion(self, item: CompletionItem) -> str:
        return f"{item.type},{item.value}"


add_completion_class(_FishComplete, "fish")


def completion_script(shell: str) -> str:
    """click's completion of our own command line for ``shell``, as shell code.

    Made here, when ``init`` or ``install`` writes the script, so that a shell's start sources
    it with the rest instead of running Python to print it (a Tab then runs the command line).
    """
    from click.shell_completion import get_completion_class

    found = get_completion_class(shell)
    if found is None:
        return ""
    text = found(cli, {}, "aprender-shell", "_APRENDER_SHELL_COMPLETE").source()
    if shell == "zsh":
        text = text.replace(_ZSH_COMPDEF, _ZSH_COMPDEF_LATER)
    return text.rstrip("\n") + "\n"


def _script(integration: ShellIntegration, cache: Path | None) -> str:
    """The integration script, with the completion of our own command line after it."""
    text = integration.script(marker=cache)
    return (f"{text.rstrip(chr(10))}\n\n# Tab completion of aprender-shell's own command line "
            f"(click's).\n{completion_script(integration.name)}")


def _chosen(shell: str | None) -> ShellIntegration:
    return integration_for(shell) if shell else detect_shell()


def _show(edit: RcEdit) -> None:
    """Print what the edit does: files and folders made or deleted, lines added or removed."""
    for line in edit.describe():
        click.echo(line)
    if edit.after is None:
        return  # the whole file goes: said above
    before = (edit.before or "").splitlines()
    after = edit.after.splitlines()
    added = [line for line in after if line not in set(before)]
    removed = [line for line in before if line not in set(after)]
    if added:
        click.echo(f"Adding to {edit.path}:\n")
    elif removed:
        click.echo(f"Removing from {edit.path}:\n")
    for line in added or removed:
        if line.strip():
            click.echo(f"    {line}")
    click.echo("")


@cli.command(short_help="Print the shell script for zsh, bash or fish.")
@click.argument("shell", type=SHELL_CHOICE, metavar="SHELL")
@click.option(
    "--cache",
    type=click.Path(dir_okay=False, path_type=Path),
    hidden=True,
    help="Also save the script to this file (the rc block written by 'install' uses this).",
)
@reports_errors
def init(shell: str, cache: Path | None) -> None:
    """Print the integration script for SHELL (zsh, bash or fish).

    \b
    'aprender-shell install' sets it up for you; by hand:
        eval "$(aprender-shell init zsh)"     # ~/.zshrc
        eval "$(aprender-shell init bash)"    # ~/.bashrc
        aprender-shell init fish | source     # ~/.config/fish/config.fish
    """
    # A saved copy marks the integration as installed: once uninstall deletes it, open shells
    # start no server.
    text = _script(integration_for(shell), cache)
    if cache is not None:
        # Shells source this file at start: a folder another account controls must not hold it.
        paths.ensure_private_dir(cache.parent)
        atomic_write_bytes(cache, text.encode("utf-8"))
    click.echo(text, nl=False)


@cli.command(short_help="Set up your shell, showing the change first.")
@click.option("--shell", type=SHELL_CHOICE,
              help="The shell to set up.  [default: your login shell, from $SHELL]")
@click.option("--dry-run", is_flag=True, help="Show the change without writing anything.")
@reports_errors
def install(shell: str | None, dry_run: bool) -> None:
    """Set up the shell integration (zsh, bash or fish), showing the change first.

    zsh and bash get one marked block in ~/.zshrc or ~/.bashrc; fish gets a snippet of its own
    in ~/.config/fish/conf.d/, and config.fish is left alone. Running it again updates it in
    place; 'aprender-shell uninstall' takes it out and leaves
    your files as they were before.
    """
    integration = _chosen(shell)
    cache = integration.cache_path()
    # Every shell start sources the saved script: refuse before showing or writing anything
    # when another account could change it (root installing into a user's folder included).
    paths.check_private_dir(cache.parent)
    edit = integration.plan_install(Path.home(), integration.init_line(cache=cache))
    if not edit.changes:
        click.echo(f"{edit.path} already loads aprender-shell; nothing to change.")
    else:
        _show(edit)
    note = integration.install_note(edit.before or "", Path.home())
    if note:
        click.echo(note)
    click.echo(CTRL_R_NOTE)
    history = _history_to_train_on()
    if dry_run:
        click.echo(f"Writing {cache}")
        if history:
            click.echo(f"No trained model yet: would train one on {', '.join(history)}")
        click.echo("Dry run: nothing written.")
        return
    # A fresh copy of the script, so an upgrade or a moved install takes effect at once.
    paths.make_private_folders(cache.parent, record=True)
    paths.ensure_private_dir(cache.parent)
    atomic_write_bytes(cache, _script(integration, cache).encode("utf-8"))
    if edit.changes:
        edit.apply()
    if history:
        # Without a model the new shell would suggest nothing and learn nothing, silently.
        click.echo(f"No trained model yet: training one on {', '.join(history)}")
        _train_default_model()
    elif history is not None:
        click.echo("No trained model yet, and no shell history to train one on: once you have "
                   "run some commands, run 'aprender-shell train' (until then your shell "
                   "suggests nothing)")
    if edit.changes:
        again = "exec fish" if integration.name == "fish" else f"source {edit.path}"
        click.echo(f"Done. Open a new {integration.name} or run: {again}")


def _history_to_train_on() -> list[str] | None:
    """None when the default model exists; else the history files a training would read
    (as shown to the user), empty when there are none."""
    from aprender_shell.history.files import find_history_files

    if paths.default_model_path().exists():
        return None
    return [display_path(path) for path in find_history_files([])]


def _train_default_model() -> None:
    from aprender_shell.cli.model import train

    try:
        click.get_current_context().invoke(train)
    except click.ClickException as error:
        click.echo(f"No model trained ({error.format_message()}); your shell suggests nothing "
                   "until 'aprender-shell train' succeeds")


@cli.command(short_help="Remove the shell setup (and the model).")
@click.option("--shell", type=SHELL_CHOICE,
              help="Only this shell's setup.  [default: every shell's]")
@click.option("--keep-model", is_flag=True, help="Keep the trained model and what it learned.")
@click.option("--dry-run", is_flag=True, help="List everything it would do, and do nothing.")
@reports_errors
def uninstall(shell: str | None, keep_model: bool, dry_run: bool) -> None:
    """Remove the shell integration and, unless --keep-model, the model.

    Your rc files come back byte for byte as they were before 'install' (a file it created is
    deleted); the saved scripts, the server's runtime files and, unless --keep-model, the
    model and what it learned are deleted. Shells already open stay quiet and start no server.
    """
    from aprender_shell.integration.uninstall import plan_uninstall_all

    chosen = [integration_for(shell)] if shell else [SHELLS[name]() for name in sorted(SHELLS)]
    plan = plan_uninstall_all(chosen, keep_model, Path.home())
    for edit in plan.edits:
        if edit.changes:
            _show(edit)
    if not plan.changes_rc_files:
        names = ", ".join(str(edit.path) for edit in plan.edits)
        click.echo(f"No aprender-shell setup found in {names}.")
    for folder, why in plan.refused:
        click.echo(f"Leaving {folder} alone: {why}")
    for path in plan.present():
        click.echo(f"Deleting {path}")
    for folder in plan.folders:
        if folder.is_dir():
            click.echo(f"Removing the folder {folder} if empty")
    if dry_run:
        if plan.stop_server:
            click.echo("Stopping the server, if it runs")
        click.echo("Dry run: nothing changed.")
        return
    stopped = plan.apply()
    if stopped is not None and stopped.pid is not None:
        click.echo(f"aprender-shell server stopped (pid {stopped.pid}).")
    click.echo("Done. Shells already open keep their key bindings until they exit, but do "
               "nothing more.")
