"""What every simulated user shares: the clock, the vocabulary, projects and the workflow engine."""

from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate
from typing import Callable, Sequence, Union

from benchmarks.sessions import slips

# Monday 2024-03-04 09:00 UTC: every generated history starts on a working morning.
START = 1_709_542_800
HOME = "/home/dev"
SAMPLE_SEED = 7
SAMPLE_SIZE = 3000
PERSONAS = ("developer", "ops", "data")


@dataclass(frozen=True)
class SessionCommand:
    """One command as it was run: the line, when (Unix seconds), where, and its exit status."""

    command: str
    timestamp: int
    cwd: str
    exit_status: int = 0


CommandLike = Union[SessionCommand, str]

NOUNS = (
    "user session cache config parser router handler client server queue worker job invoice "
    "payment order cart report export schema model view form auth login signup profile search "
    "index logger metrics retry timeout webhook upload thumbnail email notification billing plan "
    "account tenant permission role audit migration fixture settings loader builder registry "
    "scheduler pager storage event stream batch filter layout widget table chart sync backup"
).split()
VERBS = (
    "Fix Add Refactor Update Remove Handle Support Rename Simplify Document Cache Validate"
).split()
TAILS = (
    "", "", "", " on empty input", " for new accounts", " in tests", " when offline", " edge case",
    " with retries", " after migration", " behind a flag", " for large files", " in CI",
)
COMMON_MESSAGES = (
    "wip", "fix tests", "address review comments", "fix lint", "typo", "update deps",
    "bump version", "cleanup",
)
TOOLS = (
    "rsync tar find xargs sed awk jq curl ssh git tmux strace lsof ip dig openssl sort uniq "
    "cut tr watch nc make gpg rg fd htop"
).split()
PACKAGES = (
    "requests httpx rich pydantic attrs pytest-cov black orjson tqdm numpy pandas polars "
    "matplotlib seaborn scikit-learn sqlalchemy alembic fastapi uvicorn click typer"
).split()
EXTENSIONS = ("py", "log", "json", "orig", "tmp", "md", "yaml", "csv", "rej", "swp")
PEOPLE = ("alice", "bob", "carol", "dan", "erin", "frank")


def _cumulative(weights: Sequence[float]) -> list[float]:
    return list(accumulate(weights))


class _Simulator:
    """The clock, the working folder and the steps every persona shares."""

    day_commands = (120, 320)
    # How often a command is first typed wrong; how much likelier than usual a rerun is.
    typo_rate = 0.03
    rerun_scale = 1.0
    HABITS = ["clear", "git status", "pwd", "cd .."]

    def __init__(self, rng: random.Random, n: int, messy: bool = False) -> None:
        self.rng = rng
        self.n = n
        # Real people are untidier than workflows: they slip more, run a command again at
        # once, wander between folders, and type more things once.
        self.messy = messy
        if messy:
            self.typo_rate = 0.06
            self.rerun_scale = 1.5
        self.out: list[SessionCommand] = []
        self.clock = START
        self.cwd = HOME
        self.previous_cwd = HOME
        self.day = 0
        self.day_left = rng.randint(*self.day_commands)
        self.until_break = rng.randint(25, 70)
        self.new_day = True
        self.ticket = rng.randrange(100, 900)
        # Each user's own few habits, the first by far the most run.
        self.habit_rate = 0.15
        self.habits = [rng.choice(("ls", "ls", "ll", "ls -la"))] + rng.sample(self.HABITS, 2)
        self.habit_weights = _cumulative((0.7, 0.2, 0.1))

    # -- time and output ---------------------------------------------------------------------

    def emit(
        self, command: str, status: int = 0, pause: float = 12.0, moves_to: str | None = None
    ) -> None:
        """Run ``command`` now, then let time pass: about ``pause`` seconds, or a break.

        Sometimes it was first typed wrong (and failed as the shell or the tool fails), and
        sometimes it is run again at once (see ``slips``). A ``cd`` gives the folder it
        ``moves_to``: whatever follows it runs there."""
        rng = self.rng
        if rng.random() < self.typo_rate:
            wrong = slips.slip(rng, command)
            if wrong is not None:
                self.out.append(SessionCommand(wrong[0], self.clock, self.cwd, wrong[1]))
                self.clock += 2 + int(rng.expovariate(1 / 4))
        self.out.append(SessionCommand(command, self.clock, self.cwd, status))
        self.clock += 1 + int(rng.expovariate(1 / pause))
        if moves_to is not None:
            self.previous_cwd, self.cwd = self.cwd, moves_to
        # A cd is never run again at once: from the folder it led to, it would fail.
        rerun = 0.0 if moves_to is not None else slips.rerun_chance(command, status)
        if rng.random() < rerun * self.rerun_scale:
            # A failure retried often passes the second time (a flaky test, a slow service).
            again = status if rng.random() < 0.6 else 0
            self.out.append(SessionCommand(command, self.clock, self.cwd, again))
            self.clock += 1 + int(rng.expovariate(1 / pause))
        if self.messy:
            self.fidget(command)
        self.habit(command, moves_to is not None)
        self.day_left -= 1
        self.until_break -= 1
        if self.day_left <= 0:
            self.next_day()
        elif self.until_break <= 0:
            self.clock += rng.randint(600, 5400)
            self.until_break = rng.randint(25, 70)

    def habit(self, command: str, moved: bool) -> None:
        """A look around out of habit: real people's few most run lines (``ls``, ``git
        status``, ``clear``) are a large share of everything they type, the more after a
        ``cd``."""
        rng = self.rng
        if rng.random() >= (0.45 if moved else self.habit_rate) or command in self.habits:
            return
        line = self.habits[bisect(self.habit_weights, rng.random() * self.habit_weights[-1])]
        if moved:
            line = self.habits[0] if self.habits[0].startswith("l") else "ls"
        self.out.append(SessionCommand(line, self.clock, self.cwd, 0))
        self.clock += 1 + int(rng.expovariate(1 / 4))

    def fidget(self, command: str) -> None:
        """What a messy user does between steps: run it again, look around, wander off."""
        rng = self.rng
        r = rng.random()
        if r < 0.04:
            self.out.append(SessionCommand(rng.choice(("ls", "ll", "ls -la", "clear", "pwd")),
                                           self.clock, self.cwd, 0))
        elif r < 0.07:
            # Into a folder to look around, and back.
            folder = rng.choice(("src", "tests", "docs", "scripts", "build", "tmp"))
            here = self.cwd
            self.out.append(SessionCommand(f"cd {folder}", self.clock, here, 0))
            inside = f"{here.rstrip('/')}/{folder}"
            self.out.append(SessionCommand(rng.choice(("ls", "ll", "ls -la")),
                                           self.clock + 2, inside, 0))
            self.out.append(SessionCommand(rng.choice(("cd -", "cd ..")),
                                           self.clock + 5, inside, 0))
            self.clock += 5
        elif r < 0.10:
            self.one_off()
            return
        else:
            return
        self.clock += 2 + int(rng.expovariate(1 / 5))

    def next_day(self) -> None:
        rng = self.rng
        start = self.clock
        # The next working morning at least a night's sleep away; weekends stay quiet.
        while start < self.clock + 8 * 3600 or self.day % 7 in (5, 6):
            self.day += 1
            start = START + self.day * 86400 + rng.randint(-1800, 3600)
        self.clock = start
        self.day_left = rng.randint(*self.day_commands)
        self.until_break = rng.randint(25, 70)
        self.new_day = True

    def cd(self, target: str, shown: str | None = None) -> None:
        """``cd`` to ``target`` (an absolute path), typed as ``shown``."""
        if target == self.cwd:
            return
        self.emit(f"cd {shown or target}", pause=4, moves_to=target)

    # -- choices ---------------------------------------------------------------------------

    def recent(
        self, pool: list[str], fresh: Callable[[], str] | None = None, new: float = 0.0
    ) -> str:
        """A pool item, most often one used lately; sometimes a ``fresh`` one joins the pool."""
        rng = self.rng
        if fresh is not None and (not pool or rng.random() < new):
            item = fresh()
            if item in pool:
                pool.remove(item)
        else:
            item = pool.pop(int(len(pool) * rng.random() ** 2.5))
        pool.insert(0, item)
        if len(pool) > 60:
            pool.pop()
        return item

    def words(self, count: int, sep: str = "_") -> str:
        return sep.join(self.rng.sample(NOUNS, count))

    def next_ticket(self) -> int:
        self.ticket += self.rng.randint(1, 12)
        return self.ticket

    def message(self, ticket: str) -> str:
        rng = self.rng
        if rng.random() < 0.35:
            return rng.choice(COMMON_MESSAGES)
        text = f"{rng.choice(VERBS)} {rng.choice(NOUNS)} {rng.choice(NOUNS)}{rng.choice(TAILS)}"
        return f"{ticket}: {text}" if rng.random() < 0.3 else text

    # -- shared workflows -------------------------------------------------------------------

    def misc(self) -> None:
        rng = self.rng
        r = rng.random()
        if r < 0.25:
            self.emit(rng.choice(("ls", "ls", "ls -la", "ll", "ls -lh")), pause=3)
        elif r < 0.4:
            self.emit("clear", pause=2)
        elif r < 0.5:
            self.emit(rng.choice(("cd ..", "cd -", "pwd", "cd")), pause=3)
        elif r < 0.6:
            self.emit(f"history | grep {rng.choice(TOOLS)}", pause=6)
        elif r < 0.7:
            self.emit(rng.choice(("htop", "df -h", "du -sh *", "free -m", "uptime")), pause=20)
        elif r < 0.8:
            self.emit(rng.choice(("tree -L 2", "cat README.md", "less README.md", "git log")))
        elif r < 0.9:
            self.emit(f"man {rng.choice(TOOLS)}", pause=60)
        else:
            self.emit(rng.choice(("exit", "source ~/.zshrc", "vim ~/.zshrc", "tmux attach")))

    def one_off(self) -> None:
        """A command typed once: arguments nobody types twice."""
        rng = self.rng
        r = rng.randrange(18)
        n = rng.randrange(2, 9999)
        noun = rng.choice(NOUNS)
        line = (
            f"curl -s localhost:{rng.choice((3000, 5000, 8000, 8080))}/api/{noun}s/{n} | jq .",
            f"kill {rng.randrange(1200, 65000)}",
            f"python3 -c 'print({n} * {rng.randrange(2, 99)})'",
            f"date -d @{START + rng.randrange(10**7)}",
            f"echo $(({n} * {rng.randrange(2, 512)}))",
            f"pip install {rng.choice(PACKAGES)}=={rng.randrange(1, 5)}.{rng.randrange(30)}",
            f"find . -name '*.{rng.choice(EXTENSIONS)}' -mtime -{rng.randrange(1, 30)}",
            f"tar xzf ~/Downloads/{noun}-{rng.randrange(1, 4)}.{rng.randrange(20)}.tar.gz",
            f"lsof -i :{rng.randrange(1024, 9999)}",
            f"git show {rng.getrandbits(28):07x}",
            f"git log --author={rng.choice(PEOPLE)} --since='{rng.randrange(2, 30)} days ago'",
            f"ping -c 3 {noun}.example.com",
            f"mkdir -p /tmp/{noun}{n}",
            f"dig +short {noun}{rng.randrange(1, 9)}.example.org",
            f"open https://github.com/acme/{noun}/pull/{n}",
            f"wc -l {self.words(2)}.{rng.choice(EXTENSIONS)}",
            f"brew install {rng.choice(TOOLS)}",
            f"tldr {rng.choice(TOOLS)}",
        )[r]
        self.emit(line, status=1 if rng.random() < 0.1 else 0, pause=15)

    def git_commit(self, project: _Project) -> None:
        rng = self.rng
        if rng.random() < 0.8:
            self.emit("git status", pause=5)
        r = rng.random()
        if r < 0.4:
            self.emit("git diff", pause=25)
        elif r < 0.5:
            self.emit(f"git diff {project.files[0]}", pause=20)
        elif r < 0.55:
            self.emit("git diff --stat", pause=8)
        r = rng.random()
        message = self.message(project.ticket_name())
        if r < 0.12:
            self.emit(f'git commit -am "{message}"', pause=6)
        else:
            if r < 0.45:
                self.emit("git add .", pause=3)
            elif r < 0.55:
                self.emit("git add -A", pause=3)
            elif r < 0.65:
                self.emit("git add -p", pause=40)
            else:
                for path in project.files[: rng.choice((1, 1, 2, 3))]:
                    self.emit(f"git add {path}", pause=3)
            self.emit(f'git commit -m "{message}"', pause=6)
        if rng.random() < 0.55:
            if project.branch in project.pushed:
                self.emit("git push", pause=8)
            else:
                self.emit(f"git push -u origin {project.branch}", pause=8)
                project.pushed.append(project.branch)

    def git_branch(self, project: _Project) -> None:
        rng = self.rng
        r = rng.random()
        if r < 0.5 or project.branch != "main":
            checkout = "git switch" if rng.random() < 0.2 else "git checkout"
            self.emit(f"{checkout} main", pause=4)
            project.branch = "main"
            if rng.random() < 0.8:
                self.emit("git pull", pause=6)
        if rng.random() < 0.6 or len(project.branches) < 2:
            project.new_ticket(self)
            kind = rng.choice(("feature", "feature", "fix", "chore"))
            branch = f"{kind}/{project.ticket_name().lower()}-{self.words(2, '-')}"
            self.emit(f"git checkout -b {branch}", pause=5)
            project.branches.insert(0, branch)
            del project.branches[12:]
        else:
            # Back to older work: the most recent branches are the likeliest.
            others = [name for name in project.branches if name not in ("main", project.branch)]
            branch = others[int(len(others) * rng.random() ** 2)] if others else "main"
            if branch != project.branch:
                self.emit(f"git checkout {branch}", pause=5)
                project.branches.remove(branch)
                project.branches.insert(0, branch)
        project.branch = branch
        if rng.random() < 0.25:
            self.emit(rng.choice(("git rebase main", "git merge main", "git log --oneline -n 10")))

    def search_in(self, project: _Project) -> None:
        rng = self.rng
        symbol = self.recent(project.symbols, lambda: self.words(rng.choice((1, 2, 2))), 0.15)
        r = rng.random()
        if r < 0.35:
            self.emit(f"rg {symbol}", pause=15)
        elif r < 0.55:
            self.emit(f"grep -rn {symbol} {project.source_dir}", pause=15)
        elif r < 0.7:
            self.emit(f"git grep {symbol}", pause=15)
        elif r < 0.85:
            self.emit(f"rg -l {symbol} | xargs wc -l", pause=10)
        else:
            self.emit(f"find . -name '*{symbol}*'", pause=10)
        if rng.random() < 0.6:
            self.emit(f"vim {project.pick_file(self)}", pause=240)


class _Project:
    """A repository: its language, files, symbols, branches and tickets, all drifting."""

    def __init__(self, sim: _Simulator, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind
        self.path = f"{HOME}/src/{name}"
        self.package = name.replace("-", "_")
        self.prefix = name.replace("-", "")[:4].upper()
        self.ticket = sim.next_ticket()
        self.files: list[str] = []
        for _ in range(10):
            sim.recent(self.files, lambda: self.new_file(sim.rng), 1.0)
        self.symbols = [sim.words(2) for _ in range(6)]
        self.branch = "main"
        self.branches = ["main"]
        self.pushed = ["main"]
        sources = {"python": self.package, "go": "internal"}
        self.source_dir = sources.get(kind, "src")

    def ticket_name(self) -> str:
        return f"{self.prefix}-{self.ticket}"

    def new_ticket(self, sim: _Simulator) -> None:
        self.ticket = sim.next_ticket()

    def new_file(self, rng: random.Random) -> str:
        module = "_".join(rng.sample(NOUNS, rng.choice((1, 1, 2))))
        if self.kind == "python":
            if rng.random() < 0.7:
                return f"{self.package}/{module}.py"
            return f"tests/test_{module}.py"
        if self.kind == "node":
            if rng.random() < 0.3:
                return f"src/components/{module.title().replace('_', '')}.tsx"
            return f"src/{module}.ts"
        if self.kind == "rust":
            return f"src/{module}.rs"
        if self.kind == "go":
            return f"internal/{module}/{module}.go"
        return f"src/{module}.c" if rng.random() < 0.7 else f"include/{module}.h"

    def pick_file(self, sim: _Simulator) -> str:
        return sim.recent(self.files, lambda: self.new_file(sim.rng), 0.05)

    def test_command(self, rng: random.Random, path: str) -> str:
        module = path.rsplit("/", 1)[-1].split(".")[0].removeprefix("test_")
        r = rng.random()
        options: tuple[str, ...]
        weights: tuple[float, ...]
        if self.kind == "python":
            options = ("pytest", f"pytest tests/test_{module}.py", "pytest -x",
                       f"pytest -k {module}", "python -m pytest -q", "ruff check .",
                       f"mypy {self.package}")
            weights = (0.3, 0.65, 0.72, 0.8, 0.88, 0.95)
        elif self.kind == "node":
            options = ("npm test", f"npx jest src/{module}", "npm run lint", "npm run build",
                       "npm run dev", "npx tsc --noEmit")
            weights = (0.4, 0.6, 0.72, 0.84, 0.94)
        elif self.kind == "rust":
            options = ("cargo test", f"cargo test {module}", "cargo build", "cargo clippy",
                       "cargo run", "cargo fmt")
            weights = (0.35, 0.6, 0.75, 0.85, 0.95)
        elif self.kind == "go":
            options = ("go test ./...", f"go test ./internal/{module}/", "go build ./...",
                       "go vet ./...", f"go run ./cmd/{self.name}")
            weights = (0.4, 0.65, 0.8, 0.9)
        else:
            options = ("make", "make test", "make clean", f"./build/{self.name}", "make -j8")
            weights = (0.4, 0.7, 0.8, 0.9)
        return options[bisect(weights, r)]


PROJECT_NAMES = (
    ("webapp", "python"), ("billing-api", "python"), ("dashboard", "node"), ("rustdb", "rust"),
    ("edge-proxy", "go"), ("firmware", "c"), ("docs-site", "node"), ("auth-service", "go"),
    ("ml-pipeline", "python"), ("cli-tool", "rust"), ("mobile-app", "node"), ("etl-jobs", "python"),
    ("ledger", "go"), ("render-farm", "c"), ("search-svc", "rust"), ("notifier", "python"),
)
HOSTS = ("dev-box", "bastion", "build01", "pi@raspberrypi.local", "staging-db", "gpu-box")


