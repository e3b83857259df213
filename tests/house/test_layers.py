"""The house: every import runs down (docs/developers.md, "Layers and make lint")."""

import grimp

PACKAGES = ("config", "letters", "signatories", "staff")


def _cycles(graph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), imports inside functions included."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_one_that_imports_it_back():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert graph.find_modules_directly_imported_by("letters.models")  # the graph was read
    assert _cycles(graph) == []


def test_it_sees_an_import_inside_a_function():
    # letters.models once imported the lifecycle inside Letter.save; the check must see such imports.
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    details = graph.get_import_details(importer="staff.apps", imported="staff.checks")
    assert details, "staff.apps imports staff.checks inside AppConfig.ready()"


def test_letters_never_imports_config():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    importers = {
        module
        for module in graph.find_descendants("letters") | {"letters"}
        if any(
            m == "config" or m.startswith("config.") for m in graph.find_modules_directly_imported_by(module)
        )
    }
    assert importers == set()
