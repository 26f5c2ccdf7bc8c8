"""The module structure (issue 15): no import cycle anywhere in copgraph. The layer contracts themselves are checked
by `lint-imports` (pyproject.toml, run by `make test`); a cycle inside one layer would pass those, so it is checked
here."""

from __future__ import annotations

import grimp


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph("copgraph", include_external_packages=False)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            # A chain back from what it imports to the module itself closes a cycle.
            chain = graph.find_shortest_chain(importer=imported, imported=module)
            if chain is not None:
                cycles.append(" -> ".join((module, *chain)))
    assert cycles == []


def test_the_layer_contracts_are_kept() -> None:
    from importlinter.cli import lint_imports

    assert lint_imports() == 0
