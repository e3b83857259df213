"""The README documents every setting, URL, command and make target: these fail when one is added unnamed."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _placeholders(route: str) -> str:
    """`letters/<slug:slug>/` as the README compares it: `letters/<…>/` (`<slug>`, `<n>`…)."""
    return re.sub(r"<[^>]*>", "<…>", route)


def test_every_environment_variable_is_in_the_readme():
    source = (ROOT / "config" / "settings.py").read_text() + (ROOT / "gunicorn.conf.py").read_text()
    names = set(re.findall(r"""(?:env_\w+|environ\.get)\(\s*["']([A-Z][A-Z0-9_]+)["']""", source))
    assert {"SECRET_KEY", "REDIS_URL", "GUNICORN_WORKERS"} <= names  # the pattern still finds them
    assert sorted(name for name in names if f"`{name}`" not in README) == []


def test_every_environment_variable_is_in_env_example_with_the_readmes_defaults():
    source = (ROOT / "config" / "settings.py").read_text() + (ROOT / "gunicorn.conf.py").read_text()
    names = set(re.findall(r"""(?:env_\w+|environ\.get)\(\s*["']([A-Z][A-Z0-9_]+)["']""", source))
    example = (ROOT / ".env.example").read_text()
    listed = dict(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=(\S*)", example, flags=re.MULTILINE))
    assert sorted(names - set(listed)) == []
    # It said 20000, twenty times what an import finishes within gunicorn's timeout.
    assert listed["IMPORT_MAX_ROWS"] == "1000"


def test_every_url_is_in_the_readme():
    readme = _placeholders(README)
    routes = []
    for module in ["config/urls.py", "letters/urls.py", "config/site.py", "config/staff.py", "letters/admin"]:
        for path in [ROOT / module] if module.endswith(".py") else (ROOT / module).glob("*.py"):
            routes += re.findall(r"""\bpath\(\s*["']([^"']+)["']""", path.read_text())
    assert "letters/<slug:slug>/sign/thanks/" in routes and "duplicates/dismiss/" in routes
    assert sorted(route for route in routes if _placeholders(route) not in readme) == []


def test_every_management_command_is_in_the_readme():
    commands = [
        path.stem
        for path in (ROOT / "letters" / "management" / "commands").glob("*.py")
        if not path.stem.startswith("_")
    ]
    assert "purge_personal_data" in commands
    assert sorted(name for name in commands if not re.search(rf"manage\.py {name}\b", README)) == []


def test_every_make_target_the_readme_names_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, flags=re.MULTILINE))
    named = set(re.findall(r"`make ([a-z][\w-]*)", README))
    assert "run" in named
    assert sorted(named - targets) == []
