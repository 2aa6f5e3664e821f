"""An import-linter contract type: the source modules import only the standard library.

import-linter's `forbidden` contract needs every forbidden package named; this one names what
is allowed instead (the standard library and the source packages themselves), so a new
dependency cannot slip into the engine because nobody added it to a list.
"""

from __future__ import annotations

import sys

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


class StandardLibraryOnly(Contract):
    type_name = "standard_library_only"

    source_modules = fields.ListField(subfield=fields.ModuleField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        sources = [m.name for m in self.source_modules]  # type: ignore[attr-defined]
        bad: list[tuple[str, str]] = []
        for source in sources:
            for module in sorted(graph.find_descendants(source) | {source}):
                for imported in sorted(graph.find_modules_directly_imported_by(module)):
                    top = imported.split(".")[0]
                    inside = any(imported == s or imported.startswith(s + ".") for s in sources)
                    if not inside and top not in sys.stdlib_module_names and top != "__future__":
                        bad.append((module, imported))
        return ContractCheck(kept=not bad, metadata={"bad": bad})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for module, imported in check.metadata["bad"]:
            output.print_error(f"{module} imports {imported}, which is not the standard library")
            output.new_line()
