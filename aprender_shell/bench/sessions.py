"""Synthetic shell sessions with the structure of real use, for tuning and benchmarks.

A simulated user runs workflows (edit-test-commit loops, branch work, searches, containers,
remote hosts) chosen Markov-style from the previous one; each workflow is a sequence of steps,
some optional. The vocabulary drifts (new branches, files, tickets, projects, pod names), a
long tail of one-off commands keeps a fifth or so of the lines new, typos are followed by the
corrected command, and time runs in bursts within sessions, with breaks and nights between.

``python -m aprender_shell.bench.sessions`` rewrites the shipped sample history.
"""

from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Callable, Sequence, Union

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
    typo_rate = 0.015

    def __init__(self, rng: random.Random, n: int) -> None:
        self.rng = rng
        self.n = n
        self.out: list[SessionCommand] = []
        self.clock = START
        self.cwd = HOME
        self.previous_cwd = HOME
        self.day = 0
        self.day_left = rng.randint(*self.day_commands)
        self.until_break = rng.randint(25, 70)
        self.new_day = True
        self.ticket = rng.randrange(100, 900)

    # -- time and output ---------------------------------------------------------------------

    def emit(self, command: str, status: int = 0, pause: float = 12.0) -> None:
        """Run ``command`` now, then let time pass: about ``pause`` seconds, or a break."""
        rng = self.rng
        if rng.random() < self.typo_rate:
            typo = self.misspell(command)
            if typo != command:
                self.out.append(SessionCommand(typo, self.clock, self.cwd, 127))
                self.clock += 2 + int(rng.expovariate(1 / 4))
        self.out.append(SessionCommand(command, self.clock, self.cwd, status))
        self.clock += 1 + int(rng.expovariate(1 / pause))
        self.day_left -= 1
        self.until_break -= 1
        if self.day_left <= 0:
            self.next_day()
        elif self.until_break <= 0:
            self.clock += rng.randint(600, 5400)
            self.until_break = rng.randint(25, 70)

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

    def misspell(self, command: str) -> str:
        """A slip of the fingers in the first word: two letters swapped, one lost or doubled."""
        word, _, rest = command.partition(" ")
        if len(word) < 2 or not word.isalpha():
            return command
        rng = self.rng
        at = rng.randrange(len(word) - 1)
        kind = rng.random()
        if kind < 0.5:
            word = word[:at] + word[at + 1] + word[at] + word[at + 2:]
        elif kind < 0.75:
            word = word[:at] + word[at + 1:]
        else:
            word = word[:at] + word[at] + word[at:]
        return f"{word} {rest}" if rest else word

    def cd(self, target: str, shown: str | None = None) -> None:
        """``cd`` to ``target`` (an absolute path), typed as ``shown``."""
        if target == self.cwd:
            return
        self.emit(f"cd {shown or target}", pause=4)
        self.previous_cwd, self.cwd = self.cwd, target

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
        if rng.random() < 0.22:
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


class _Developer(_Simulator):
    """Edit-test-commit loops over a few projects, with containers, clusters and remote hosts."""

    WORKFLOWS = ("edit_test", "commit", "branch", "switch", "search", "docker", "kube", "ssh",
                 "review", "misc", "one_off")
    # Row: what tends to follow a workflow; the columns follow WORKFLOWS.
    FOLLOWS = {
        "edit_test": (30, 38, 2, 4, 6, 2, 1, 1, 2, 6, 8),
        "commit": (30, 2, 12, 12, 6, 4, 3, 2, 9, 8, 12),
        "branch": (55, 2, 2, 3, 10, 3, 2, 1, 2, 8, 12),
        "switch": (40, 8, 10, 4, 10, 6, 3, 2, 3, 6, 8),
        "search": (45, 5, 2, 4, 12, 2, 2, 1, 2, 10, 15),
        "docker": (30, 5, 3, 8, 6, 12, 6, 2, 3, 10, 15),
        "kube": (20, 5, 3, 8, 5, 6, 20, 6, 3, 10, 14),
        "ssh": (20, 5, 3, 10, 5, 5, 8, 8, 3, 15, 18),
        "review": (30, 6, 10, 10, 6, 3, 3, 2, 8, 8, 14),
        "misc": (30, 10, 5, 10, 8, 5, 4, 3, 4, 8, 13),
        "one_off": (25, 10, 5, 10, 8, 5, 5, 3, 4, 10, 15),
    }

    def __init__(self, rng: random.Random, n: int) -> None:
        super().__init__(rng, n)
        self.unused = list(PROJECT_NAMES)
        rng.shuffle(self.unused)
        self.projects = [self.open_project(clone=False) for _ in range(4)]
        self.project = self.projects[0]
        self.pods: dict[str, str] = {}
        self.namespace = "staging"
        self.hosts = list(HOSTS)
        self.follows = {name: _cumulative(row) for name, row in self.FOLLOWS.items()}

    def open_project(self, clone: bool) -> _Project:
        if not self.unused:
            self.unused = [(f"{name}-v{self.day}", kind) for name, kind in PROJECT_NAMES]
        name, kind = self.unused.pop()
        project = _Project(self, name, kind)
        if clone:
            self.cd(f"{HOME}/src", "~/src")
            self.emit(f"git clone git@github.com:acme/{name}.git", pause=20)
        return project

    def run(self) -> list[SessionCommand]:
        workflow = "switch"
        while len(self.out) < self.n:
            if self.new_day:
                self.new_day = False
                self.start_day()
                workflow = "edit_test"
                continue
            cumulative = self.follows[workflow]
            workflow = self.WORKFLOWS[bisect(cumulative, self.rng.random() * cumulative[-1])]
            getattr(self, workflow)()
        return self.out[: self.n]

    def start_day(self) -> None:
        rng = self.rng
        if rng.random() < 0.08 and self.day > 2:  # a new project every few weeks; one goes quiet
            self.projects.insert(0, self.open_project(clone=True))
            del self.projects[5:]
        self.switch(first=True)
        self.emit("git status", pause=5)
        if rng.random() < 0.7:
            self.emit("git pull", pause=8)
        if rng.random() < 0.3:
            self.emit("docker compose up -d", pause=20)

    def go_to_project(self) -> None:
        if self.cwd != self.project.path:
            self.cd(self.project.path, f"~/src/{self.project.name}")

    def switch(self, first: bool = False) -> None:
        rng = self.rng
        index = min(int(len(self.projects) * rng.random() ** 1.8), len(self.projects) - 1)
        self.project = self.projects.pop(index)
        self.projects.insert(0, self.project)
        self.go_to_project()
        if not first and rng.random() < 0.4:
            self.emit(rng.choice(("git status", "ls", "git log --oneline -n 5", "git branch")))

    def edit_test(self) -> None:
        rng = self.rng
        project = self.project
        self.go_to_project()
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            path = project.pick_file(self)
            editor = "vim" if rng.random() < 0.85 else rng.choice(("nvim", "code"))
            self.emit(f"{editor} {path}", pause=300)
            if rng.random() < 0.15:
                self.emit(f"{rng.choice(('less', 'cat', 'head -50'))} {project.files[1]}")
            failed = rng.random() < 0.3
            test = project.test_command(rng, path)
            self.emit(test, status=1 if failed else 0, pause=40)
            if failed and rng.random() < 0.5:
                self.emit(f"vim {path}", pause=200)
                self.emit(test, pause=40)

    def commit(self) -> None:
        self.go_to_project()
        self.git_commit(self.project)

    def branch(self) -> None:
        self.go_to_project()
        self.git_branch(self.project)

    def search(self) -> None:
        self.go_to_project()
        self.search_in(self.project)

    def docker(self) -> None:
        rng = self.rng
        name = self.project.name
        steps = (
            (0.6, "docker ps"), (0.3, "docker compose up -d"),
            (0.3, f"docker compose logs -f {name}"),
            (0.15, f"docker build -t {name}:dev ."), (0.15, f"docker exec -it {name}-app-1 bash"),
            (0.15, "docker compose down"), (0.05, "docker system prune -f"), (0.1, "docker images"),
        )
        for chance, line in steps:
            if rng.random() < chance:
                self.emit(line, pause=25)

    def kube(self) -> None:
        rng = self.rng
        if rng.random() < 0.15:
            self.namespace = rng.choice(("staging", "staging", "prod", "dev"))
            self.emit(f"kubectx {self.namespace}", pause=4)
        service = self.project.name
        if service not in self.pods or rng.random() < 0.2:  # redeployed: new pod names
            self.pods[service] = f"{service}-{rng.getrandbits(20):05x}-{rng.getrandbits(20):05x}"
        pod = self.pods[service]
        listing = ("kubectl get pods", f"kubectl get pods -n {self.namespace}", "k get po")
        self.emit(rng.choice(listing))
        r = rng.random()
        if r < 0.5:
            self.emit(f"kubectl logs {pod}", pause=30)
            if rng.random() < 0.3:
                self.emit(f"kubectl logs -f {pod} --tail=100", pause=120)
        elif r < 0.7:
            self.emit(f"kubectl describe pod {pod}", pause=30)
        elif r < 0.85:
            self.emit(f"kubectl rollout restart deployment/{service}", pause=10)
            self.emit(f"kubectl rollout status deployment/{service}", pause=30)
        else:
            manifest = rng.choice(("deployment", "service", "ingress"))
            self.emit(f"kubectl apply -f k8s/{manifest}.yaml")

    def ssh(self) -> None:
        rng = self.rng
        host = self.recent(self.hosts)
        if rng.random() < 0.75:
            self.emit(f"ssh {host}", pause=900)
        else:
            self.emit(f"scp {self.project.files[0]} {host}:/tmp/", pause=10)

    def review(self) -> None:
        rng = self.rng
        self.go_to_project()
        number = rng.randrange(40, 900)
        options = ("gh pr create --fill", "gh pr view --web", "gh pr list",
                   f"gh pr checkout {number}", "git fetch origin", "git rebase origin/main",
                   "git stash", "git stash pop", "git log --oneline -n 20", "gh pr status")
        for _ in range(rng.choice((1, 2, 2, 3))):
            self.emit(options[min(int(len(options) * rng.random() ** 1.5), len(options) - 1)])

    def one_off(self) -> None:
        for _ in range(self.rng.choice((1, 1, 1, 2, 3))):
            super().one_off()


class _Ops(_Simulator):
    """An operator: clusters, services, logs, disks, infrastructure code, many hosts."""

    day_commands = (100, 260)

    def __init__(self, rng: random.Random, n: int) -> None:
        super().__init__(rng, n)
        roles = ("web", "db", "cache", "worker")
        self.hosts = [f"{role}-{number:02d}" for role in roles for number in range(1, 9)]
        rng.shuffle(self.hosts)
        self.services = ["nginx", "postgresql", "redis-server", "docker", "kubelet", "haproxy"]
        self.deployments = ["api", "frontend", "worker", "scheduler", "gateway"]
        self.pods: dict[str, str] = {}
        self.repo = _Project(self, "infra", "c")

    def run(self) -> list[SessionCommand]:
        steps = (self.kube, self.service, self.remote, self.disk, self.terraform, self.ansible,
                 self.misc, self.one_off, self.commit)
        cumulative = _cumulative((26, 16, 16, 8, 8, 7, 8, 14, 5))
        while len(self.out) < self.n:
            if self.new_day:
                self.new_day = False
                self.emit("kubectl get nodes")
                self.emit("kubectl get pods -A | grep -v Running", pause=20)
            steps[bisect(cumulative, self.rng.random() * cumulative[-1])]()
        return self.out[: self.n]

    def kube(self) -> None:
        rng = self.rng
        deployment = self.recent(self.deployments)
        if deployment not in self.pods or rng.random() < 0.25:
            suffix = f"{rng.getrandbits(32):08x}-{rng.getrandbits(20):05x}"
            self.pods[deployment] = f"{deployment}-{suffix}"
        pod = self.pods[deployment]
        namespace = rng.choice(("prod", "prod", "staging"))
        self.emit(f"kubectl get pods -n {namespace}")
        r = rng.random()
        if r < 0.4:
            self.emit(f"kubectl logs -n {namespace} {pod} --tail=200", pause=40)
        elif r < 0.6:
            self.emit(f"kubectl describe pod -n {namespace} {pod}", pause=40)
        elif r < 0.8:
            self.emit(f"kubectl rollout restart deployment/{deployment} -n {namespace}")
            self.emit(f"kubectl rollout status deployment/{deployment} -n {namespace}", pause=60)
        else:
            self.emit(f"kubectl top pods -n {namespace}", pause=20)

    def service(self) -> None:
        rng = self.rng
        unit = self.recent(self.services)
        sudo = "sudo " if rng.random() < 0.7 else ""
        self.emit(f"{sudo}systemctl status {unit}")
        if rng.random() < 0.5:
            since = rng.choice(("10 min ago", "1 hour ago", "today"))
            self.emit(f'journalctl -u {unit} --since "{since}"', pause=60)
        if rng.random() < 0.3:
            self.emit(f"{sudo}systemctl restart {unit}", pause=8)
            self.emit(f"{sudo}systemctl status {unit}")

    def remote(self) -> None:
        rng = self.rng
        host = self.recent(self.hosts)
        self.emit(f"ssh {host}", pause=600)
        if rng.random() < 0.4:
            self.emit(rng.choice(("tail -f /var/log/syslog", "tail -n 200 /var/log/nginx/error.log",
                                  "top", "htop", "uptime", "free -m")), pause=60)

    def disk(self) -> None:
        rng = self.rng
        self.emit("df -h")
        if rng.random() < 0.6:
            folder = rng.choice(("log", "lib/docker", "lib/postgresql", "cache"))
            self.emit(f"sudo du -sh /var/{folder}/*")
        if rng.random() < 0.2:
            self.emit("sudo journalctl --vacuum-size=500M")

    def terraform(self) -> None:
        rng = self.rng
        stack = rng.choice(("network", "cluster", "dns", "storage"))
        self.cd(f"{HOME}/src/infra/terraform/{stack}", f"~/src/infra/terraform/{stack}")
        self.emit("terraform plan", pause=60)
        if rng.random() < 0.5:
            self.emit("terraform apply", pause=120)
        elif rng.random() < 0.3:
            self.emit(f"terraform plan -target=module.{rng.choice(NOUNS)}", pause=60)

    def ansible(self) -> None:
        rng = self.rng
        self.cd(f"{HOME}/src/infra/ansible", "~/src/infra/ansible")
        group = rng.choice(("web", "db", "cache", "all"))
        check = " --check" if rng.random() < 0.4 else ""
        playbook = f"ansible-playbook -i inventories/prod site.yml --limit {group}{check}"
        self.emit(playbook, pause=180)

    def commit(self) -> None:
        self.cd(self.repo.path, "~/src/infra")
        self.git_commit(self.repo)


class _Data(_Simulator):
    """A data scientist: environments, notebooks, scripts over CSV files, a GPU box."""

    day_commands = (80, 220)

    def __init__(self, rng: random.Random, n: int) -> None:
        super().__init__(rng, n)
        self.project = _Project(self, "churn-model", "python")
        self.datasets: list[str] = []
        for _ in range(6):
            self.recent(self.datasets, self.new_dataset, 1.0)
        self.scripts = ["train", "prepare", "evaluate", "plot_results", "export"]
        self.env = "churn"

    def new_dataset(self) -> str:
        rng = self.rng
        return f"data/{self.words(1)}_{rng.randrange(2023, 2025)}_{rng.randrange(1, 13):02d}.csv"

    def run(self) -> list[SessionCommand]:
        steps = (self.script, self.inspect, self.notebook, self.packages, self.commit, self.gpu,
                 self.misc, self.one_off)
        cumulative = _cumulative((30, 18, 8, 6, 6, 8, 8, 7))
        while len(self.out) < self.n:
            if self.new_day:
                self.new_day = False
                self.cd(self.project.path, "~/src/churn-model")
                self.emit(f"conda activate {self.env}")
            steps[bisect(cumulative, self.rng.random() * cumulative[-1])]()
        return self.out[: self.n]

    def script(self) -> None:
        rng = self.rng
        name = self.recent(self.scripts, lambda: self.words(2), 0.01)
        data = self.recent(self.datasets, self.new_dataset, 0.02)
        if rng.random() < 0.5:
            self.emit(f"vim scripts/{name}.py", pause=240)
        args = f" --input {data}" if rng.random() < 0.7 else ""
        if rng.random() < 0.3:
            args += f" --epochs {rng.choice((5, 10, 20, 50))}"
        failed = rng.random() < 0.2
        self.emit(f"python scripts/{name}.py{args}", status=1 if failed else 0, pause=90)

    def inspect(self) -> None:
        rng = self.rng
        data = self.recent(self.datasets, self.new_dataset, 0.02)
        line = rng.choice((f"head {data}", f"wc -l {data}", "ls data/", "du -sh data/",
                           f"csvlook {data} | less -S", f"xsv stats {data}"))
        self.emit(line, pause=20)

    def notebook(self) -> None:
        self.emit(self.rng.choice(("jupyter lab", "jupyter notebook", "jupyter lab --no-browser")),
                  pause=1800)

    def packages(self) -> None:
        rng = self.rng
        package = rng.choice(PACKAGES)
        self.emit(rng.choice((f"pip install {package}", f"conda install {package}", "pip list",
                              "pip freeze > requirements.txt", f"conda activate {self.env}")))

    def gpu(self) -> None:
        rng = self.rng
        self.emit("ssh gpu-box", pause=1200)
        if rng.random() < 0.4:
            self.emit(f"scp gpu-box:runs/{self.words(1)}/metrics.json .")
        if rng.random() < 0.3:
            self.emit("nvidia-smi")

    def commit(self) -> None:
        self.git_commit(self.project)


SIMULATORS: dict[str, Callable[[random.Random, int], _Developer | _Ops | _Data]] = {
    "developer": _Developer, "ops": _Ops, "data": _Data,
}


def generate_sessions(n: int, seed: int = 0, persona: str = "developer") -> list[SessionCommand]:
    """``n`` commands of one simulated user; the same ``seed`` gives the same commands."""
    if persona not in SIMULATORS:
        raise ValueError(f"unknown persona {persona!r}; choose one of {', '.join(PERSONAS)}")
    if n <= 0:
        return []
    return SIMULATORS[persona](random.Random(seed), n).run()


# -- history file writers ------------------------------------------------------------------


def _timed(cmds: Sequence[CommandLike]) -> list[tuple[str, int | None]]:
    return [(c, None) if isinstance(c, str) else (c.command, c.timestamp) for c in cmds]


def _metafy(line: str) -> bytes:
    """zsh's history file encoding: bytes 0x83-0x9f and NUL become 0x83 and the byte ^ 0x20."""
    out = bytearray()
    for byte in line.encode("utf-8"):
        if byte == 0 or 0x83 <= byte <= 0x9F:
            out += bytes((0x83, byte ^ 0x20))
        else:
            out.append(byte)
    return bytes(out)


def write_zsh_history(path: Path | str, cmds: Sequence[CommandLike]) -> None:
    """zsh EXTENDED_HISTORY lines; a plain string takes the time of the command before it."""
    chunks = []
    last = START
    for command, timestamp in _timed(cmds):
        last = last if timestamp is None else timestamp
        chunks.append(b": %d:0;" % last + _metafy(command.replace("\n", "\\\n")) + b"\n")
    Path(path).write_bytes(b"".join(chunks))


def write_bash_history(path: Path | str, cmds: Sequence[CommandLike]) -> None:
    """bash HISTTIMEFORMAT history: ``#<time>`` before each timed command."""
    lines = []
    for command, timestamp in _timed(cmds):
        if timestamp is not None:
            lines.append(f"#{timestamp}\n")
        lines.append(f"{command}\n")
    Path(path).write_text("".join(lines), encoding="utf-8")


def write_fish_history(path: Path | str, cmds: Sequence[CommandLike]) -> None:
    """fish's ``- cmd:`` / ``when:`` entries, with fish's escaping of backslash and newline."""
    lines = []
    for command, timestamp in _timed(cmds):
        escaped = command.replace("\\", "\\\\").replace("\n", "\\n")
        lines.append(f"- cmd: {escaped}\n")
        if timestamp is not None:
            lines.append(f"  when: {timestamp}\n")
    Path(path).write_text("".join(lines), encoding="utf-8")


def sample_history_file() -> Path:
    """Where the shipped sample history lives inside the package."""
    return Path(__file__).resolve().parent.parent / "model" / "data" / "sample_history"


def sample_sessions() -> list[SessionCommand]:
    """The commands of the shipped sample history: a developer's few weeks."""
    return generate_sessions(SAMPLE_SIZE, seed=SAMPLE_SEED, persona="developer")


def write_sample_history(path: Path | None = None) -> Path:
    """Regenerate the shipped sample history (or write it to ``path``)."""
    target = path or sample_history_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    write_zsh_history(target, sample_sessions())
    return target


if __name__ == "__main__":
    print(write_sample_history())
