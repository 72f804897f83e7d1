"""The house rules' figures for bot/: import cycles, module lengths, function lengths.

    python scripts/house.py          # print the figures; exit 1 when a rule is broken

Rules (issue "One house"): no import cycle between any two modules of bot/ (grimp, the graph
import-linter checks, including imports inside functions); no module over 400 lines; no
function over 60 lines.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping, Set
from pathlib import Path

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
ROOT = Path(__file__).resolve().parent.parent


def import_graph() -> dict[str, set[str]]:
    """Every module of bot/ and the modules of bot/ it imports (anywhere in its body)."""
    import grimp

    graph = grimp.build_graph("bot")
    modules = sorted(m for m in graph.modules if m == "bot" or m.startswith("bot."))
    return {
        m: {i for i in graph.find_modules_directly_imported_by(m) if i.startswith("bot")}
        for m in modules
    }


def cycles(edges: Mapping[str, Set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def module_lines(root: Path = ROOT / "bot") -> dict[str, int]:
    return {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in root.rglob("*.py")}


def function_lines(root: Path = ROOT / "bot") -> dict[str, int]:
    """`path:line name` → the function's length in lines, for every function and method."""
    lengths = {}
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                where = f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
                lengths[where] = (node.end_lineno or node.lineno) - node.lineno + 1
    return lengths


def _worst(lengths: Mapping[str, int], limit: int) -> tuple[list[str], str]:
    over = sorted((f"{n} {k}" for k, n in lengths.items() if n > limit), reverse=True)
    longest = max(lengths, key=lambda k: lengths[k])
    return over, f"{lengths[longest]} lines ({longest})"


def main() -> int:
    edges = import_graph()
    loops = cycles(edges)
    modules, modules_longest = _worst(module_lines(), MAX_MODULE_LINES)
    functions, functions_longest = _worst(function_lines(), MAX_FUNCTION_LINES)
    imports = sum(len(e) for e in edges.values())
    print(f"import cycles: {len(loops)} among {len(edges)} modules and {imports} imports")
    for loop in loops:
        print("  " + " <-> ".join(loop))
    print(f"modules over {MAX_MODULE_LINES} lines: {len(modules)}; longest {modules_longest}")
    for line in modules:
        print("  " + line)
    print(
        f"functions over {MAX_FUNCTION_LINES} lines: {len(functions)}; longest {functions_longest}"
    )
    for line in functions:
        print("  " + line)
    return 1 if loops or modules or functions else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
