"""Every command block of README.md and docs/**/*.md runs, in order, from a fresh clone.

One test per document (new documents are picked up by `docrun.doc_files`); the conventions
(what runs, reduced size, servers, installs) are in `tests/docrun.py` and
docs/writing-docs.md. A failure names the file, the block and the command's line.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import docrun
import pytest

DOCS = docrun.doc_files()
# documents run side by side (each in its own folder): the rest of the suite uses one core
WORKERS = max(1, min(2, os.cpu_count() or 1))


def _run_one(file: str, base: Path, runs: Path) -> docrun.DocResult:
    folder = docrun.make_clone(base / file.replace("/", "__"))
    try:
        return docrun.run_document(file, folder, base_runs=runs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def document_runs(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future]]:
    """Every selected document started on a small pool, README first (the longest), after
    ``runs/`` was made once as ``make run`` leaves it (at reduced size)."""
    base = tmp_path_factory.mktemp("docs")
    clone = docrun.make_clone(base / "make-run")
    docrun.run_blocks([docrun.Block("Makefile", 1, 1, "sh", "make run")], clone)
    chosen = [item.callspec.params["file"] for item in request.session.items
              if getattr(item, "originalname", "") == "test_document_runs"]
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {f: pool.submit(_run_one, f, base, clone / "runs") for f in chosen}
        yield futures
        for f in futures.values():
            f.cancel()


@pytest.mark.parametrize("file", DOCS)
def test_document_runs(file: str, document_runs: dict[str, Future]) -> None:
    try:
        result = document_runs[file].result()
    except docrun.DocFailure as e:
        pytest.fail(str(e), pytrace=False)
    cpu = sum(t.cpu for t in result.timings)
    slow = sorted(result.timings, key=lambda t: -t.cpu)[:3]
    print(f"{file}: {result.ran} run ({cpu:.0f} s CPU), {len(result.checked)} checked, "
          f"{len(result.skipped)} skipped; most CPU: "
          + "; ".join(f"{t.what} {t.cpu:.1f} s" for t in slow))
    for note in result.checked + result.skipped:
        print("  " + note)


# ---------------------------------------------------------------- the harness itself


def _doc(root: Path, name: str, text: str) -> str:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return name


def _run(tmp_path: Path, text: str) -> docrun.DocResult:
    tmp_path = tmp_path / f"doc{len(list(tmp_path.iterdir()))}"
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True, exist_ok=True)
    (root / "Makefile").write_text("run:\n\t@scripts/bootstrap.sh\n\techo ran > made.txt\n"
                                   "test:\n\t@echo the suite\n")
    name = _doc(root, "docs/page.md", text)
    folder = docrun.make_clone(tmp_path / "clone", root)
    return docrun.run_document(name, folder, root=root)


def test_new_documents_are_picked_up_with_subfolders(tmp_path: Path) -> None:
    _doc(tmp_path, "README.md", "# x\n")
    _doc(tmp_path, "docs/import.md", "x")
    _doc(tmp_path, "docs/zh/quickstart.md", "x")
    assert docrun.doc_files(tmp_path) == ["README.md", "docs/import.md",
                                          "docs/zh/quickstart.md"]
    assert "docs/writing-docs.md" in DOCS and DOCS[0] == "README.md"


def test_a_failing_command_names_file_block_line_and_output(tmp_path: Path) -> None:
    text = "Intro.\n\n```sh\necho first\n```\n\nMore.\n\n```sh\n" \
           "echo fine\ngridloop run no-such-town --days 1   # a typo\necho never\n```\n"
    with pytest.raises(docrun.DocFailure) as e:
        _run(tmp_path, text)
    message = str(e.value)
    assert message.startswith("docs/page.md, block 2 (line 9), command at line 11:\n"
                              "  gridloop run no-such-town --days 1   # a typo\nexited with 2:")
    assert "no such file or bundled scenario" in message


def test_a_file_no_earlier_step_made_fails_before_running(tmp_path: Path) -> None:
    text = "```sh\necho 'base: small-town' > made.yaml\ngridloop validate made.yaml\n" \
           "gridloop compare small-town my-town.yaml --reps 2 --out runs/cmp\n```\n"
    with pytest.raises(docrun.DocFailure) as e:
        _run(tmp_path, text)
    assert "command at line 4" in str(e.value)
    assert "names my-town.yaml, which is not in the clone and no earlier command of " \
           "docs/page.md made" in str(e.value)
    assert not list(tmp_path.glob("*/clone/runs/cmp"))


def test_saved_files_skips_installs_make_and_prompts(tmp_path: Path) -> None:
    text = ("```yaml\n# my-town.yaml: an overlay\nbase: small-town\nname: my-town\n```\n\n"
            "```sh\ngridloop validate my-town.yaml\nmake test\nmake run\ncat made.txt\n"
            "pip install -e '.[console]'\n"
            "python -c \"import getpass; assert getpass.getpass('password: ') == "
            f"'{docrun.PASSWORD}'\"\n```\n\n"
            "<!-- docs-test: skip needs a city of your own -->\n"
            "```sh\ngridloop run my-own-city.yaml\n```\n\n"
            "```text\ngridloop: this is output, not a command\n```\n")
    result = _run(tmp_path, text)
    assert result.ran == 4
    assert [n.split(": ", 1)[1] for n in result.checked] == [
        "make test is one of the project's own suites: checked to exist, not run",
        "install checked (extras defined and installed), not run"]
    assert result.skipped == ["docs/page.md, block 3 (line 17): needs a city of your own"]


def test_an_undefined_extra_is_reported(tmp_path: Path) -> None:
    with pytest.raises(docrun.DocFailure, match=r"names the extra \[consol\], which "
                                                r"pyproject.toml does not define"):
        _run(tmp_path, "```sh\npip install -e '.[consol]'\n```\n")
    with pytest.raises(docrun.DocFailure, match="the docs harness runs no installs"):
        _run(tmp_path, "```sh\npip install requests\n```\n")


def test_the_readme_starts_with_what_gridloop_is_and_two_commands() -> None:
    text = (docrun.ROOT / "README.md").read_text(encoding="utf-8")
    blocks = docrun.parse_blocks(text, "README.md")
    intro = text[:text.index("```")]
    assert intro.startswith("# GridLoop\n") and "simulates grid-based city management" in intro
    first = [c.text.split("#")[0].strip() for c in docrun.commands(blocks[0])]
    assert first == ["make run", "make test"]


def test_docs_cite_only_what_is_in_the_repository() -> None:
    """Code, data, feedback and docs cite docs/domain.md (in the repository), never the
    project's domain brief, which is not ("DOMAIN §8", "DOMAIN.md")."""
    brief = re.compile(r"\bDOMAIN(\.md\b|\s*§)")
    cited = []
    for path in docrun.tracked_files():
        if Path(path).suffix not in (".py", ".md", ".yaml", ".yml", ".html", ".js", ".txt",
                                     ".po"):
            continue
        text = (docrun.ROOT / path).read_text(encoding="utf-8", errors="replace")
        cited += [f"{path}:{n}" for n, line in enumerate(text.splitlines(), 1)
                  if brief.search(line) and path != "tests/test_docs.py"]
    assert not cited, ("cite docs/domain.md §N instead of the brief outside the repository: "
                       + ", ".join(cited[:30]))
