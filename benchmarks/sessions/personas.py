"""The three simulated users: a developer, an operator and a data scientist."""

from __future__ import annotations

import random
from bisect import bisect
from typing import Callable

from benchmarks.sessions import slips
from benchmarks.sessions.simulator import (
    HOME,
    HOSTS,
    NOUNS,
    PACKAGES,
    PERSONAS,
    PROJECT_NAMES,
    SessionCommand,
    _cumulative,
    _Project,
    _Simulator,
)


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

    def __init__(self, rng: random.Random, n: int, messy: bool = False) -> None:
        super().__init__(rng, n, messy)
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
            # One editor by habit, another now and then.
            editor = "vim" if rng.random() < 0.95 else rng.choice(("nvim", "code"))
            self.emit(f"{editor} {path}", pause=300)
            if rng.random() < 0.12:
                self.emit(f"{'less' if rng.random() < 0.8 else 'cat'} {project.files[1]}")
            failed = rng.random() < 0.3
            test = project.test_command(rng, path)
            # Sometimes from inside the tests folder, and back up after.
            inside = project.kind == "python" and test.startswith("pytest") and rng.random() < 0.1
            if inside:
                self.cd(f"{project.path}/tests", "tests")
                test = test.replace("tests/", "")
            self.emit(test, status=slips.failed_status(test) if failed else 0, pause=40)
            if failed and rng.random() < 0.5:
                self.emit(f"vim {path}", pause=200)
                self.emit(test, pause=40)
            if inside:
                self.cd(project.path, "..")

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
        if rng.random() < 0.25:
            # A rebuild that fails (docker's own errors exit 125), fixed, then run again.
            failed = rng.random() < 0.3
            self.emit("docker compose up -d --build", status=125 if failed else 0, pause=60)
            if failed:
                self.emit(f"vim {self.project.pick_file(self)}", pause=120)
                self.emit("docker compose up -d --build", pause=60)
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
        host = self.recent(self.hosts, self.new_host, 0.08)
        if rng.random() < 0.75:
            self.emit(f"ssh {host}", pause=900)
        else:
            self.emit(f"scp {self.project.files[0]} {host}:/tmp/", pause=10)

    def new_host(self) -> str:
        """A machine not seen before: a fresh cloud box, a colleague's, a lab board."""
        rng = self.rng
        if rng.random() < 0.5:
            return f"ubuntu@10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
        return f"{rng.choice(NOUNS)}-{rng.randrange(1, 40):02d}.internal"

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
        for _ in range(self.rng.choice((1, 1, 1, 2))):
            super().one_off()


class _Ops(_Simulator):
    """An operator: clusters, services, logs, disks, infrastructure code, many hosts."""

    day_commands = (100, 260)

    def __init__(self, rng: random.Random, n: int, messy: bool = False) -> None:
        super().__init__(rng, n, messy)
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
        cumulative = _cumulative((26, 16, 16, 8, 8, 7, 8, 17, 5))
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
        host = self.recent(self.hosts, self.new_host, 0.04)
        self.emit(f"ssh {host}", pause=600)
        if rng.random() < 0.4:
            self.emit(rng.choice(("tail -f /var/log/syslog", "tail -n 200 /var/log/nginx/error.log",
                                  "top", "htop", "uptime", "free -m")), pause=60)

    def new_host(self) -> str:
        """A machine added to the fleet."""
        rng = self.rng
        return f"{rng.choice(('web', 'db', 'cache', 'worker'))}-{rng.randrange(9, 60):02d}"

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

    def __init__(self, rng: random.Random, n: int, messy: bool = False) -> None:
        super().__init__(rng, n, messy)
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
        if rng.random() < 0.15:
            args += f" --epochs {rng.choice((10, 20))}"
        failed = rng.random() < 0.2
        self.emit(f"python scripts/{name}.py{args}", status=1 if failed else 0, pause=90)

    def inspect(self) -> None:
        rng = self.rng
        data = self.recent(self.datasets, self.new_dataset, 0.02)
        line = rng.choice((f"head {data}", f"wc -l {data}", "ls data/", "du -sh data/",
                           f"csvlook {data} | less -S", f"xsv stats {data}"))
        self.emit(line, pause=20)

    def notebook(self) -> None:
        rng = self.rng
        inside = rng.random() < 0.5
        if inside:
            self.cd(f"{self.project.path}/notebooks", "notebooks")
        self.emit(rng.choice(("jupyter lab", "jupyter notebook", "jupyter lab --no-browser")),
                  pause=1800)
        if inside:
            self.cd(self.project.path, "..")

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


SIMULATORS: dict[str, Callable[[random.Random, int, bool], _Developer | _Ops | _Data]] = {
    "developer": _Developer, "ops": _Ops, "data": _Data,
}


def generate_sessions(
    n: int, seed: int = 0, persona: str = "developer", messy: bool = False
) -> list[SessionCommand]:
    """``n`` commands of one simulated user; the same ``seed`` gives the same commands.

    A ``messy`` user slips three times as often, runs commands again at once, looks around
    (``ls``, ``clear``), wanders into folders and back, and types more one-off commands.
    """
    if persona not in SIMULATORS:
        raise ValueError(f"unknown persona {persona!r}; choose one of {', '.join(PERSONAS)}")
    if n <= 0:
        return []
    return SIMULATORS[persona](random.Random(seed), n, messy).run()


