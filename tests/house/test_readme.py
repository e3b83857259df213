"""
The docs (README.md and docs/*.md) document every setting, URL, command and
make target: these fail when one is added unnamed.
"""

import re
from pathlib import Path

# The checkout: the nearest folder above this file that holds manage.py, wherever in tests/ this file lives.
ROOT = next(folder for folder in Path(__file__).resolve().parents if (folder / "manage.py").is_file())
README = (ROOT / "README.md").read_text()
DOC_FILES = sorted((ROOT / "docs").glob("*.md"))
DOCS = "\n".join([README, *(path.read_text() for path in DOC_FILES)])

# Sections that code comments cite as `docs/design.md, "<Section>"`.
DESIGN_SECTIONS = [
    "The list as of a day",
    "One signatory, one lifecycle",
    "Claims on an organization",
    "Retention",
    "The signer's page",
    "Press CSV",
    "JSON",
    "Layers",
]


def _placeholders(route: str) -> str:
    """`letters/<slug:slug>/` as the docs compare it: `letters/<…>/` (`<slug>`, `<n>`…)."""
    return re.sub(r"<[^>]*>", "<…>", route)


def _python_files(*places: str) -> list[Path]:
    """The files named, and every .py under the folders named; a place that does not exist is skipped."""
    files = []
    for place in places:
        path = ROOT / place
        if place.endswith(".py"):
            files += [path] if path.is_file() else []
        else:
            files += sorted(path.rglob("*.py")) if path.is_dir() else []
    return files


def test_every_environment_variable_is_in_the_docs():
    source = (ROOT / "config" / "settings.py").read_text() + (ROOT / "gunicorn.conf.py").read_text()
    names = set(re.findall(r"""(?:env_\w+|environ\.get)\(\s*["']([A-Z][A-Z0-9_]+)["']""", source))
    assert {"SECRET_KEY", "REDIS_URL", "GUNICORN_WORKERS"} <= names  # the pattern still finds them
    assert sorted(name for name in names if f"`{name}`" not in DOCS) == []


def test_every_environment_variable_is_in_env_example_with_the_docs_defaults():
    source = (ROOT / "config" / "settings.py").read_text() + (ROOT / "gunicorn.conf.py").read_text()
    names = set(re.findall(r"""(?:env_\w+|environ\.get)\(\s*["']([A-Z][A-Z0-9_]+)["']""", source))
    example = (ROOT / ".env.example").read_text()
    listed = dict(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=(\S*)", example, flags=re.MULTILINE))
    assert sorted(names - set(listed)) == []
    # An import of this many rows previews and confirms within gunicorn's timeout (bench/import_load.py).
    assert listed["IMPORT_MAX_ROWS"] == "20000"


def test_every_url_is_in_the_docs():
    docs = _placeholders(DOCS)
    routes = []
    for path in _python_files("config/urls.py", "letters/urls.py", "letters/admin", "staff"):
        routes += re.findall(r"""\bpath\(\s*["']([^"']+)["']""", path.read_text())
    assert "letters/<slug:slug>/sign/thanks/" in routes and "duplicates/dismiss/" in routes
    if (ROOT / "staff").is_dir():
        assert {"2fa/", "digest/"} <= set(routes)  # the staff app's site.py is read
    assert sorted(route for route in routes if _placeholders(route) not in docs) == []


def test_every_management_command_is_in_the_docs():
    commands = [
        path.stem
        for folder in ["letters", "staff"]
        for path in (ROOT / folder / "management" / "commands").glob("*.py")
        if not path.stem.startswith("_")
    ]
    assert "purge_personal_data" in commands
    if (ROOT / "staff" / "management" / "commands").is_dir():
        assert "totp_device" in commands
    assert sorted(name for name in commands if not re.search(rf"manage\.py {name}\b", DOCS)) == []


def test_every_make_target_the_docs_name_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, flags=re.MULTILINE))
    named = set(re.findall(r"`make ([a-z][\w-]*)", DOCS))
    assert {"run", "test"} <= set(re.findall(r"`make ([a-z][\w-]*)", README))
    assert sorted(named - targets) == []


def test_the_readme_is_a_front_door_to_every_doc():
    assert len(README.splitlines()) <= 300
    assert {path.name for path in DOC_FILES} >= {
        "operators.md",
        "developers.md",
        "organizers.md",
        "design.md",
    }
    assert sorted(path.name for path in DOC_FILES if f"docs/{path.name}" not in README) == []


def test_the_design_has_the_sections_code_cites():
    design = (ROOT / "docs" / "design.md").read_text()
    headings = set(re.findall(r"^#{2,3} (.+?)\s*$", design, flags=re.MULTILINE))
    assert sorted(set(DESIGN_SECTIONS) - headings) == []
