"""Running the documentation: every command block of README.md and docs/**/*.md, in order.

`tests/test_docs.py` runs each document with `run_document` in a scratch folder of its own and
fails naming the file, the block, the command and its line. The conventions, for anyone
writing docs (docs/writing-docs.md says the same in short):

What runs
    - A block fenced ```sh (or ``bash``, ``shell``) is commands: each line (``\\`` joins
      continuation lines) is one command, run by bash in the document's scratch folder with
      ``.venv/bin`` first on PATH (as after ``source .venv/bin/activate``). A variable set on
      a line of its own (``E=scenarios/examples``) holds for the rest of the document.
    - A block fenced ```python runs as a script (``python block.py``) in the same folder; a
      block fenced ```sql runs in DuckDB, one database per document, so later blocks see the
      tables earlier ones made.
    - A block whose first line is ``# NAME.EXT`` or ``# NAME.EXT: what it is`` (``# my-whistle.yaml:
      the whistle, sooner``) is a file the reader saves: it is written under that name, not run.
    - Anything else (``text``, ``yaml``, ``json``, unlabelled blocks, transcripts of output
      that start with ``$ ``) is shown to the reader and not run. Put commands with
      placeholders (``--db postgresql://USER:PASSWORD@HOST/DB``) in the prose as inline code.
    - ``<!-- docs-test: skip REASON -->`` on the line before a fence skips that block; the
      reason is printed with the test's output. Use it rarely: a skipped block can rot.

Where it runs
    - Every document starts from a fresh copy of the clone after ``make run`` (``runs/first``
      is there); README.md, which runs ``make run`` itself, starts before it. Files a command
      reads must be in the clone or made by an earlier command of the same document: a
      command naming one that is not fails at once ("names my-town.yaml, which ...").
    - Reduced size through documented knobs (docs/writing-docs.md): ``GRIDLOOP_MAX_DAYS=2``
      cuts every simulated run to 2 days, ``GRIDLOOP_MAX_REPS=2`` every experiment to 2
      replications per point. The text the reader sees is the text that runs.

Commands handled specially
    - ``make run`` runs the Makefile's recipe without its set-up line (the suite already runs
      in the installed ``.venv``); ``make test``, ``make bench`` and other targets are the
      project's own suites: they are checked to exist (``make -n``), not run.
    - ``pip install`` of GridLoop's extras (``pip install -e '.[console]'``,
      ``pip install 'gridloop[dask]'``) is checked, not run: the extra must be in
      pyproject.toml and its requirements installed. Other installs fail the test.
    - ``gridloop console`` (a server) starts on a free port (``GRIDLOOP_CONSOLE_PORT``),
      must answer HTTP within a minute, and is then stopped.
    - A command asking for a password at the terminal (``gridloop users add NAME``) gets
      `PASSWORD` typed in, as often as it asks.
"""

from __future__ import annotations

import os
import re
import selectors
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KNOBS = {"GRIDLOOP_MAX_DAYS": "2", "GRIDLOOP_MAX_REPS": "2"}
PASSWORD = "docs-harness-password"
RUN_LANGS = {"sh", "bash", "shell"}
COMMAND_TIMEOUT = 600.0
SERVER_WAIT = 60.0
# options whose value is a file or folder the command writes, not one it reads
OUTPUT_OPTIONS = {"--out", "--csv", "--json", "--html", "-o", "--output", "--db"}
DATA_SUFFIXES = {".yaml", ".yml", ".csv", ".json", ".parquet", ".geojson", ".html", ".db",
                 ".py", ".md", ".txt", ".png", ".svg", ".sql", ".toml"}
SERVERS = (("gridloop", "console"),)
_SKIP = re.compile(r"<!--\s*docs-test:\s*skip\b\s*(.*?)\s*-->")
_FENCE = re.compile(r"^(```+|~~~+)\s*([^\n]*)$")
_FILE_LINE = re.compile(r"^#\s*([\w./-]+\.[A-Za-z0-9]+)\s*(?::.*)?$")
_ASSIGN = re.compile(r"^(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*=\S*$")


@dataclass
class Block:
    """One fenced block of a document."""

    file: str            # relative to the repository, e.g. docs/import.md
    number: int          # 1-based among the document's fenced blocks
    line: int            # line of the opening fence
    lang: str
    text: str
    skip: str | None = None     # the reason given by <!-- docs-test: skip ... -->

    @property
    def saved_as(self) -> str | None:
        """The file name of a block that is a file to save (first line ``# NAME.EXT``)."""
        first = self.text.split("\n", 1)[0].strip()
        m = _FILE_LINE.match(first)
        return m.group(1) if m and self.lang not in RUN_LANGS else None

    @property
    def kind(self) -> str:
        """``file``, ``sh``, ``python``, ``sql`` or ``shown`` (not run)."""
        if self.saved_as:
            return "file"
        if self.lang in RUN_LANGS:
            return "sh"
        if self.lang in ("python", "py"):
            return "python"
        if self.lang == "sql":
            return "sql"
        return "shown"

    def where(self) -> str:
        return f"{self.file}, block {self.number} (line {self.line})"


@dataclass
class Command:
    """One command of a shell block: a logical line (continuations joined)."""

    block: Block
    line: int
    text: str

    def where(self) -> str:
        return f"{self.block.where()}, command at line {self.line}"


class DocFailure(AssertionError):
    """A documented command failed; the message names the file, block, command and line."""


@dataclass
class Timing:
    what: str
    seconds: float    # wall
    cpu: float        # CPU seconds of the command and its children


@dataclass
class DocResult:
    file: str
    ran: int = 0
    skipped: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=list)


def doc_files(root: Path = ROOT) -> list[str]:
    """README.md, then every Markdown file under docs/ (sorted), relative to ``root``."""
    files = ["README.md"] if (root / "README.md").is_file() else []
    files += sorted(str(p.relative_to(root)) for p in (root / "docs").rglob("*.md"))
    return files


def parse_blocks(text: str, file: str) -> list[Block]:
    """The fenced blocks of a Markdown text, with their language and skip marks."""
    blocks: list[Block] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i].rstrip())
        if not m:
            i += 1
            continue
        fence, info = m.group(1), m.group(2).strip()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not (lines[i].strip().startswith(fence[0] * len(fence))
                                      and lines[i].strip().strip(fence[0]) == ""):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        skip = None
        j = start - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        if j >= 0 and (s := _SKIP.search(lines[j])):
            skip = s.group(1) or "no reason given"
        lang = info.split()[0].lower() if info else ""
        blocks.append(Block(file, len(blocks) + 1, start + 1, lang, "\n".join(body), skip))
    return blocks


def commands(block: Block) -> list[Command]:
    """The commands of a shell block: continuation lines joined, comments and blanks left out."""
    out: list[Command] = []
    pending: list[str] = []
    first = 0
    for n, raw in enumerate(block.text.split("\n")):
        line = raw.rstrip()
        if not pending:
            first = n
            if not line.strip() or line.lstrip().startswith("#"):
                continue
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        out.append(Command(block, block.line + 1 + first, " ".join(p.strip() for p in pending)))
        pending = []
    if pending:
        out.append(Command(block, block.line + 1 + first, " ".join(p.strip() for p in pending)))
    return out


# ------------------------------------------------------------------ static checks


def _words(text: str) -> list[str]:
    lex = shlex.shlex(text, posix=True, punctuation_chars=";&|<>")
    lex.whitespace_split = True
    lex.commenters = "#"
    try:
        return list(lex)
    except ValueError:  # an unclosed quote: bash will say so
        return text.split()


def _segments(words: list[str]) -> list[list[str]]:
    """Simple commands of a line: split at | ; && || (redirections stay in the segment)."""
    out: list[list[str]] = [[]]
    for w in words:
        if w in ("|", ";", "&&", "||", "&"):
            out.append([])
        else:
            out[-1].append(w)
    return [s for s in out if s]


def _expand(word: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: env.get(m.group(1), ""), word)


def program(segment: list[str]) -> list[str]:
    """The program and subcommand words of a simple command (``.venv/bin/`` dropped),
    skipping leading ``NAME=value`` words."""
    words = [w for w in segment if not _ASSIGN.match(w)]
    if not words:
        return []
    head = words[0].removeprefix(".venv/bin/")
    return [head, *words[1:]]


def inputs(segment: list[str]) -> list[str]:
    """Words of a simple command that name a file or folder it reads."""
    words = program(segment)
    if not words or words[0] in ("echo", "printf", "cd", "mkdir", "rm", "touch", "tee",
                                 "export"):
        return []
    if words[0] in ("cp", "mv", "ln"):  # the last word is where it goes
        words = words[:-1]
    found = []
    skip_next = False
    for i, w in enumerate(words[1:], 1):
        if skip_next:
            skip_next = False
            continue
        if w in (">", ">>", "2>", "&>") or w in OUTPUT_OPTIONS:
            skip_next = True
            continue
        if w.startswith("-"):
            opt, eq, val = w.partition("=")
            if eq and opt in OUTPUT_OPTIONS:
                continue
            w = val if eq else ""
            if not w:
                continue
        if words[0] in ("python", "python3", "bash", "sh") and words[i - 1] in ("-m", "-c"):
            continue  # a module name or a program's text
        if "://" in w or "=" in w or w.startswith("'") or "[" in w:
            continue
        if "/" in w or Path(w).suffix.lower() in DATA_SUFFIXES:
            found.append(w)
    return found


def _bundled(name: str, folder: Path) -> bool:
    """Whether ``name`` is a bundled scenario, rule set or exercise name."""
    for base in (folder / "scenarios", folder / "scenarios" / "rules",
                 ROOT / "training" / "exercises"):
        if (base / f"{name}.yaml").is_file():
            return True
    return False


# ------------------------------------------------------------------ the scratch folder


def tracked_files(root: Path = ROOT) -> list[str]:
    """The clone's files tracked by git (relative paths); without git, every file but the
    usual build and run leftovers."""
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files"], capture_output=True,
                             text=True, timeout=60, check=True).stdout
        return [ln for ln in out.splitlines() if ln and (root / ln).is_file()]
    except (OSError, subprocess.SubprocessError):
        skip = {"runs", "build", "dist", "__pycache__"}
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
                      and not any(part in skip or part.startswith(".")
                                  for part in p.relative_to(root).parts))


def tracked_top_level(root: Path = ROOT) -> list[str]:
    """The clone's top-level entries (tracked by git; without git, the folder's own)."""
    return sorted({path.split("/", 1)[0] for path in tracked_files(root)})


def make_clone(folder: Path, root: Path = ROOT) -> Path:
    """A folder that looks like a fresh clone: scenarios/ copied (commands may write beside
    it), everything else linked, ``.venv`` linked to the running environment."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in tracked_top_level(root):
        if name == "scenarios":
            shutil.copytree(root / name, folder / name)
        else:
            (folder / name).symlink_to(root / name)
    if sys.prefix != sys.base_prefix and not (folder / ".venv").exists():
        (folder / ".venv").symlink_to(sys.prefix)
    return folder


def environment(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}   # as a user's shell, not make's
    env.update(KNOBS)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    env["COLUMNS"] = "100"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("GRIDLOOP_CONSOLE_DB", None)
    env["GRIDLOOP_CONSOLE_PORT"] = str(_free_port())
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ running


@dataclass
class Outcome:
    code: int
    output: str
    cpu: float = 0.0       # CPU seconds of the command and its children
    seconds: float = 0.0   # wall


def _tail(text: str, n: int = 25) -> str:
    lines = text.rstrip().splitlines()
    return "\n".join(("    " + ln) for ln in lines[-n:]) or "    (no output)"


def run_shell(line: str, folder: Path, env: dict[str, str], timeout: float = COMMAND_TIMEOUT,
              answer: str = PASSWORD) -> Outcome:
    """Run one command line with bash; its standard input is a terminal that types
    ``answer`` whenever the output ends in a prompt (``password: ``)."""
    import pty

    started = time.monotonic()
    master, slave = pty.openpty()
    proc = subprocess.Popen(["bash", "-o", "pipefail", "-c", line], cwd=folder, env=env,
                            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    os.close(slave)
    out = bytearray()
    sel = selectors.DefaultSelector()
    assert proc.stdout is not None
    sel.register(proc.stdout, selectors.EVENT_READ)
    sel.register(master, selectors.EVENT_READ)   # what is written to the terminal: prompts
    deadline = time.monotonic() + timeout
    try:
        while proc.stdout in [k.fileobj for k in sel.get_map().values()]:
            left = deadline - time.monotonic()
            if left <= 0:
                _stop(proc)
                return Outcome(-1, out.decode(errors="replace")
                               + f"\n(stopped after {timeout:.0f} s)")
            for key, _ in sel.select(timeout=min(left, 1.0)):
                fd = key.fileobj if isinstance(key.fileobj, int) else key.fileobj.fileno()
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # the terminal's last user has gone
                    chunk = b""
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                out += chunk
                last = out.rsplit(b"\n", 1)[-1]
                if re.search(rb"(password|again)[^\n]*: $", last, re.I):
                    os.write(master, answer.encode() + b"\n")
        # reap it ourselves for its own CPU time (with its children's), even among threads
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        sel.close()
        os.close(master)
        proc.stdout.close()
    return Outcome(proc.returncode, out.decode(errors="replace"),
                   usage.ru_utime + usage.ru_stime, time.monotonic() - started)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def run_server(line: str, folder: Path, env: dict[str, str]) -> Outcome:
    """Start a server command, wait until it answers HTTP on its port, then stop it."""
    port = env["GRIDLOOP_CONSOLE_PORT"]
    log = folder / f".server-{port}.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(["bash", "-c", line], cwd=folder, env=env,
                                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + SERVER_WAIT
    answered = None
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    answered = r.status
            except urllib.error.HTTPError as e:
                answered = e.code
            except OSError:  # not listening yet: wait a little for the process instead
                try:
                    proc.wait(timeout=0.25)
                except subprocess.TimeoutExpired:
                    pass
                continue
            break
    finally:
        _stop(proc)
    text = log.read_text(errors="replace")
    if answered is None:
        why = "exited" if proc.returncode not in (None, -signal.SIGTERM) else "did not answer"
        return Outcome(1, f"{text}\n(the server {why} on port {port} within "
                          f"{SERVER_WAIT:.0f} s)")
    return Outcome(0, f"{text}\n(answered HTTP {answered} on port {port})")


def check_install(words: list[str]) -> str | None:
    """Check a ``pip install`` of GridLoop's extras: None if fine, else what is wrong."""
    from importlib import metadata

    from packaging.requirements import Requirement

    extras_of = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get(
        "optional-dependencies", {})
    targets = [w for w in words[2:] if not w.startswith("-")]
    if not targets:
        return "names nothing to install"
    for t in targets:
        m = re.fullmatch(r"(?:\.|gridloop)(?:\[([\w,-]+)\])?", t)
        if not m:
            return (f"installs {t!r}: the docs harness runs no installs; document GridLoop's "
                    "extras (pip install -e '.[NAME]') and add the package to one")
        for extra in (m.group(1) or "").split(",") if m.group(1) else []:
            if extra not in extras_of:
                return (f"names the extra [{extra}], which pyproject.toml does not define "
                        f"(it has {', '.join(sorted(extras_of))})")
            for spec in extras_of[extra]:
                req = Requirement(spec)
                try:
                    have = metadata.version(req.name)
                except metadata.PackageNotFoundError:
                    return f"needs {req.name} (extra [{extra}]), which is not installed"
                if req.specifier and have not in req.specifier:
                    return f"needs {spec} (extra [{extra}]), installed {have}"
    return None


def run_document(file: str, folder: Path, base_runs: Path | None = None,
                 root: Path = ROOT) -> DocResult:
    """Run every block of ``file`` in order in ``folder`` (a fresh clone, see `make_clone`).

    ``base_runs`` is a ``runs/`` folder made by ``make run``: copied in first unless the
    document runs ``make run`` itself.

    Raises:
        DocFailure: the first command that fails, or that names a file nothing made.
    """
    blocks = parse_blocks((root / file).read_text(encoding="utf-8"), file)
    runs_make_run = any(program(seg)[:2] == ["make", "run"]
                        for b in blocks if b.kind == "sh" and not b.skip
                        for c in commands(b) for seg in _segments(_words(c.text)))
    if base_runs is not None and not runs_make_run:
        shutil.copytree(base_runs, folder / "runs", dirs_exist_ok=True)
    return run_blocks(blocks, folder)


def run_blocks(blocks: list[Block], folder: Path) -> DocResult:
    """Run ``blocks`` (of one document) in order in ``folder``."""
    result = DocResult(blocks[0].file if blocks else "")
    env = environment(folder)
    assigned: list[str] = []
    variables = dict(env)
    for block in blocks:
        if block.skip:
            result.skipped.append(f"{block.where()}: {block.skip}")
        elif block.kind == "file":
            target = folder / block.saved_as  # type: ignore[operator]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text + "\n", encoding="utf-8")
        elif block.kind in ("python", "sql"):
            script = folder / ".docs" / f"block-{block.number}.{block.kind}"
            script.parent.mkdir(exist_ok=True)
            script.write_text(block.text + "\n", encoding="utf-8")
            line = f"python {shlex.quote(str(script))}" if block.kind == "python" else \
                f"python -c {shlex.quote(_DUCKDB)} {shlex.quote(str(script))}"
            first = block.text.split("\n", 1)[0]
            _record(result, block.where(), first, run_shell(line, folder, env))
        elif block.kind == "sh":
            for cmd in commands(block):
                outcome = _run_command(cmd, folder, env, assigned, variables)
                if isinstance(outcome, str):
                    result.checked.append(f"{cmd.where()}: {outcome}")
                elif outcome is not None:
                    _record(result, cmd.where(), cmd.text, outcome)
    return result


# one DuckDB database per document, so later blocks see the tables earlier ones made
_DUCKDB = ("import duckdb, sys; duckdb.connect('.docs/duck.db')"
           ".execute(open(sys.argv[1], encoding='utf-8').read())")


def _record(result: DocResult, where: str, text: str, outcome: Outcome) -> None:
    if outcome.code != 0:
        raise DocFailure(f"{where}:\n  {text}\nexited with {outcome.code}:\n"
                         f"{_tail(outcome.output)}")
    result.ran += 1
    result.timings.append(Timing(f"{where}: {text[:60]}", outcome.seconds, outcome.cpu))


def _run_command(cmd: Command, folder: Path, env: dict[str, str], assigned: list[str],
                 variables: dict[str, str]) -> Outcome | str | None:
    """Run one command: its outcome, or a note when it was checked instead of run, or None
    for a variable's assignment."""
    words = _words(cmd.text)
    if _ASSIGN.match(cmd.text.strip()) and len(words) <= 2:
        assigned.append(cmd.text.strip())
        name, _, value = cmd.text.strip().removeprefix("export ").partition("=")
        variables[name] = _expand(value, variables)
        return None
    segments = _segments(words)
    for seg in segments:
        for w in inputs(seg):
            path = _expand(w, variables)
            if not (folder / path).exists() and not _bundled(path, folder):
                raise DocFailure(f"{cmd.where()}:\n  {cmd.text}\nnames {path}, which is not in "
                                 f"the clone and no earlier command of {cmd.block.file} made")
    head = program(segments[0]) if segments else []
    if head[:1] == ["make"] and len(head) >= 2:
        return _make(cmd, head[1], folder, env)
    if head[:2] == ["pip", "install"] or head[:4] == ["python", "-m", "pip", "install"]:
        problem = check_install(head if head[0] == "pip" else head[2:])
        if problem:
            raise DocFailure(f"{cmd.where()}:\n  {cmd.text}\n{problem}")
        return "install checked (extras defined and installed), not run"
    prelude = "".join(f"{a}\n" for a in assigned)
    if tuple(head[:2]) in SERVERS:
        return run_server(prelude + cmd.text, folder, env)
    return run_shell(prelude + cmd.text, folder, env)


def _make(cmd: Command, target: str, folder: Path, env: dict[str, str]) -> Outcome | str:
    # Under `make test` the suite inherits MAKEFLAGS/MAKELEVEL, and a nested make then prints
    # "make[1]: Entering directory ..." lines into its dry run: run it as a user's shell would.
    plain = {k: v for k, v in env.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    dry = subprocess.run(["make", "--no-print-directory", "-n", target], cwd=folder, env=plain,
                         capture_output=True, text=True, timeout=60)
    if dry.returncode != 0:
        raise DocFailure(f"{cmd.where()}:\n  {cmd.text}\nmake has no target {target!r}:\n"
                         f"{_tail(dry.stderr)}")
    if target != "run":
        return f"make {target} is one of the project's own suites: checked to exist, not run"
    recipe = [ln for ln in dry.stdout.splitlines() if ln.strip()
              and "scripts/bootstrap.sh" not in ln and not ln.startswith("make")]
    return run_shell("set -e\n" + "\n".join(recipe), folder, env)
