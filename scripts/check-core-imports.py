#!/usr/bin/env python3
"""Fails if the top-level modules of devconnect-core import each other in a cycle.

Imports in the core point down: service modules -> store, media, bus, model, ... ->
model -> devconnect_types. A module that imports one that imports it back (directly or
through others) breaks that. This builds the module graph from `use crate::...` trees
and `crate::...` paths and, if any, exits 1 naming each group of modules caught in a
cycle, with one shortest cycle in it and the files that make each of its edges.
`--graph` prints the whole graph first.

How the graph is built:
- Every file maps to its top-level module: `src/store/mod.rs`, `src/store/sqlite.rs`
  and `src/store/timed.rs` are all `store`; `src/lib.rs` is the crate root.
- Comments, string literals and test-only code (an item behind `#[cfg(test)]`, e.g.
  `mod tests { ... }`) are ignored: doc links and tests are not dependencies.
- `crate::m::...` is an edge to `m`. `crate::Name` is an edge to the module lib.rs
  re-exports `Name` from (`pub use m::Name`); names lib.rs defines itself (the
  `DevConnect` handle, `now()`, macros) belong to the root, and names it re-exports
  from another crate (`devconnect_types`) are no edge.
- Only `#[cfg(test)]` itself marks test code (not `#[cfg(all(test, ...))]`).
- The root (lib.rs: the service handle, which assembles every module) is exempt, and
  so is `testkit` (the conformance suite behind the `testkit` feature, above all).

Usage: scripts/check-core-imports.py [--graph] [path/to/devconnect-core/src]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = "<root>"
EXEMPT = {ROOT, "testkit"}
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def blank(source: str) -> str:
    """The source with comments and string/char literals replaced by spaces (newlines
    kept), so braces and `crate::` inside them do not count."""
    out = []
    i, n = 0, len(source)

    def keep_newlines(text: str) -> str:
        return "".join(c if c == "\n" else " " for c in text)

    while i < n:
        c = source[i]
        if source.startswith("//", i):
            j = source.find("\n", i)
            j = n if j == -1 else j
            out.append(" " * (j - i))
            i = j
        elif source.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if source.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif source.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(keep_newlines(source[i:j]))
            i = j
        elif m := re.compile(r'b?r(#*)"').match(source, i):
            if i > 0 and (source[i - 1].isalnum() or source[i - 1] == "_"):
                out.append(c)
                i += 1
                continue
            end = '"' + m.group(1)
            j = source.find(end, m.end())
            j = n if j == -1 else j + len(end)
            out.append(keep_newlines(source[i:j]))
            i = j
        elif c == '"' or (c == "b" and source.startswith('b"', i) and not (i and source[i - 1].isalnum())):
            j = i + (2 if c == "b" else 1)
            while j < n and source[j] != '"':
                j += 2 if source[j] == "\\" else 1
            out.append(keep_newlines(source[i : j + 1]))
            i = j + 1
        elif c == "'":
            # A char literal ('x', '\n', '\u{1F600}') or a lifetime ('a).
            if source.startswith("\\", i + 1):
                j = source.find("'", i + 2)
                j = n if j == -1 else j + 1
            elif i + 2 < n and source[i + 2] == "'":
                j = i + 3
            else:
                out.append(c)
                i += 1
                continue
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def item_end(code: str, start: int) -> int:
    """The end of the item starting at `start`: after its first `;` at depth 0, or
    after the `}` closing its first `{`."""
    depth = 0
    for j in range(start, len(code)):
        ch = code[j]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == ";" and depth == 0:
            return j + 1
        elif ch == "{":
            level = 1
            for k in range(j + 1, len(code)):
                if code[k] == "{":
                    level += 1
                elif code[k] == "}":
                    level -= 1
                    if level == 0:
                        return k + 1
            return len(code)
    return len(code)


CFG_TEST = re.compile(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
ATTRIBUTE = re.compile(r"\s*#\s*\[[^\]]*\]")


def strip_tests(code: str) -> tuple[str, list[str]]:
    """The code without items behind `#[cfg(test)]`, and the names of test-only
    `mod name;` files it declares."""
    test_files = []
    while m := CFG_TEST.search(code):
        start = m.end()
        while a := ATTRIBUTE.match(code, start):  # further attributes of the same item
            start = a.end()
        end = item_end(code, start)
        if decl := re.fullmatch(r"\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;", code[start:end]):
            test_files.append(decl.group(1))
        code = code[: m.start()] + "\n" * code.count("\n", m.start(), end) + code[end:]
    return code, test_files


def expand_use_tree(tree: str) -> list[str]:
    """`a::{b, c::{d as e}}` -> [`a::b`, `a::c::d as e`] (spaces normalised)."""
    tree = re.sub(r"\s*(::|[{},])\s*", r"\1", re.sub(r"\s+", " ", tree.strip()))
    depth = 0
    for idx, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                prefix = tree[:idx]
                inner = tree[idx + 1 : tree.rindex("}")]
                parts, level, last = [], 0, 0
                for k, c2 in enumerate(inner):
                    if c2 == "{":
                        level += 1
                    elif c2 == "}":
                        level -= 1
                    elif c2 == "," and level == 0:
                        parts.append(inner[last:k])
                        last = k + 1
                parts.append(inner[last:])
                return [path for part in parts if part for path in expand_use_tree(prefix + part)]
            depth += 1
    return [tree]


USE = re.compile(r"\buse\s+([^;]*);")
PATH = re.compile(r"(?<![A-Za-z0-9_])\$?crate::(" + IDENT + r")")


def module_of(src: Path, file: Path) -> str:
    rel = file.relative_to(src)
    if rel.parts == ("lib.rs",):
        return ROOT
    return rel.parts[0].removesuffix(".rs")


def main(argv: list[str]) -> int:
    show_graph = "--graph" in argv
    args = [a for a in argv if a != "--graph"]
    src = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "devconnect-core" / "src"
    files = sorted(src.rglob("*.rs"))
    modules = {module_of(src, f) for f in files} - {ROOT}

    codes: dict[Path, str] = {}
    skipped: set[Path] = set()
    for file in files:
        code, test_files = strip_tests(blank(file.read_text(encoding="utf-8")))
        codes[file] = code
        base = file.parent if file.name in ("lib.rs", "mod.rs") else file.with_suffix("")
        for name in test_files:
            skipped.update({base / f"{name}.rs", base / name / "mod.rs"})

    # What lib.rs re-exports, name -> module (names lib.rs defines itself are the root's).
    reexports: dict[str, str] = {}
    for use in USE.finditer(codes[src / "lib.rs"]):
        for path in expand_use_tree(use.group(1)):
            parts = path.removeprefix("crate::").removeprefix("self::").split("::")
            if len(parts) >= 2 and parts[0] in modules:
                reexports[parts[-1].split(" as ")[-1]] = parts[0]

    def target(first: str) -> str:
        if first in modules:
            return first
        return reexports.get(first, ROOT)

    edges: dict[str, dict[str, set[str]]] = {m: {} for m in modules}
    for file in files:
        if file in skipped:
            continue
        here = module_of(src, file)
        if here in EXEMPT:
            continue
        code = codes[file]
        rel = str(file.relative_to(src))
        firsts = []
        # `super::` of a top-level module (`src/m.rs`, `src/m/mod.rs`) is the root; of a
        # file below (`src/m/x.rs`) it is the module itself.
        depth = len(file.relative_to(src).parts) - (1 if file.name == "mod.rs" else 0)
        super_is_root = depth == 1
        for use in USE.finditer(code):
            for path in expand_use_tree(use.group(1)):
                parts = path.split(" as ")[0].split("::")
                if parts[0] in ("crate", "$crate") and len(parts) > 1:
                    firsts.append(parts[1])
                elif parts[0] == "super" and super_is_root and len(parts) > 1:
                    firsts.append(parts[1])
        firsts += PATH.findall(code)  # `crate::` in use trees and in paths alike
        for first in firsts:
            there = target(first)
            if there != here and there not in EXEMPT:
                edges[here].setdefault(there, set()).add(rel)

    if show_graph:
        for m in sorted(edges):
            print(f"{m} -> {', '.join(sorted(edges[m])) or '(nothing)'}")

    cycles = find_cycles({m: set(t) for m, t in edges.items()})
    if not cycles:
        print(f"check-core-imports: {len(modules)} modules, no import cycle")
        return 0
    print("check-core-imports: import cycles among devconnect-core modules:", file=sys.stderr)
    for members, cycle in cycles:
        print(f"  among {{{', '.join(members)}}}, e.g.", file=sys.stderr)
        print("    " + " -> ".join(cycle + [cycle[0]]), file=sys.stderr)
        for a, b in zip(cycle, cycle[1:] + [cycle[0]]):
            print(f"      {a} -> {b}: {', '.join(sorted(edges[a][b]))}", file=sys.stderr)
    return 1


def find_cycles(graph: dict[str, set[str]]) -> list[tuple[list[str], list[str]]]:
    """Each strongly connected component with a cycle, with one shortest cycle in it
    (Tarjan for the components, then a BFS inside each)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            components.append(component)

    for v in sorted(graph):
        if v not in index:
            connect(v)

    cycles = []
    for component in components:
        if len(component) < 2:
            continue
        members = set(component)
        best: list[str] | None = None
        for start in sorted(members):
            parents = {start: start}
            queue = [start]
            found = None
            while queue and found is None:
                v = queue.pop(0)
                for w in sorted(graph.get(v, set()) & members):
                    if w == start:
                        found = v
                        break
                    if w not in parents:
                        parents[w] = v
                        queue.append(w)
            if found is not None:
                path = [found]
                while path[-1] != start:
                    path.append(parents[path[-1]])
                path.reverse()
                if best is None or len(path) < len(best):
                    best = path
        cycles.append((sorted(members), best or sorted(members)))
    return cycles


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
