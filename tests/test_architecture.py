"""evalkit's structure, read from its source with `ast` (nothing is imported, so a module that
is broken or half-way through a change is still checked):

- imports point down the layers: base (evalkit.paths) -> data (evalkit.data, and the package
  root, whose `evalkit.load` is the data layer's front door) -> cohorts -> statistics and
  disclosure control (evalkit.stats, evalkit.sdc) -> report -> analyses -> run (evalkit.run,
  evalkit.cli). evalkit.synth is a tool beside data: it imports base and data only, and only
  the run layer imports it (tests may too; they are not checked). An analysis never imports
  another analysis, and its compute modules (`compute*.py`) never import the report layer.
- no module uses another library's private names (`_name`, not dunders) or rewrites
  `sys.modules`;
- no module is over MAX_LINES lines;
- and, in tests/, no test module imports another (shared code is a conftest fixture or in the
  `helpers` package).

Modules are found with `pkgutil.iter_modules`, one package at a time (`pkgutil.walk_packages`
would import every package to find its children).

What the import check sees: every `import` and `from ... import` statement, absolute or
relative, at module level or inside a function, class or `if TYPE_CHECKING:` block. It does not
see modules imported by name at run time (`importlib.import_module("evalkit....")`, as the
run layer's preload list and cli's subcommand table do).

What the private-name check sees, over every module's syntax tree:
- `from lib import _name`, `import lib._mod`, `from lib._mod import name` (lib outside evalkit);
- `x._name` and `getattr(x, "_name")` (also setattr, hasattr, delattr) where `x` is a name an
  import of another library bound (`import sys` then `sys._xoptions`, `import asyncio` then
  `asyncio.events._set_running_loop`); or where `x` is anything else not bound by an import of
  evalkit (`super()._hook`, `sys.modules["m"]._f`, a local name) and `_name` is not one the
  file itself gives to objects (a method or class attribute of its classes, a keyword
  argument as in `set_defaults(_module=...)`, an attribute it sets);
- `self._name` / `cls._name` in a class with a base from another library, when the class does
  not define `_name` itself (a method of that name, a class attribute, or `self._name = ...`):
  that is the base class's private attribute; and `super()._name` in such a class;
- assignments into, deletions from and mutating calls on `sys.modules`.
It allows `self._name`/`cls._name` of evalkit's own classes, `_name` of names bound by
imports of evalkit, and documented public functions spelled with an underscore (PUBLIC).
It cannot see: a private name reached through an evalkit object (`style.plt._x`), one reached
by a computed string (`getattr(x, name)`), a library's private name on a local object when the
file gives some object a name spelled the same, a method that overrides a base class's private
hook without calling it through `super()`, or which function a name is bound in (a file's
imports are taken together, whatever their scope).
"""

from __future__ import annotations

import ast
import functools
import pkgutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from evalkit.paths import PACKAGE_DIR

ROOT = "evalkit"
TESTS_DIR = Path(__file__).resolve().parent
MAX_LINES = 600  # the "no module over ~600 lines"
#: Layer ranks: a module may import its own rank or lower.
RANKS = {"base": 0, "data": 1, "synth": 1, "cohorts": 2, "statistics": 3, "report": 4,
         "analyses": 5, "run": 6}
#: Layer of each module-name prefix (the longest matching prefix wins); the root package, which
#: only re-exports `evalkit.data.load.load` as `evalkit.load` and holds `__version__`, is data.
LAYERS = {ROOT: "data", f"{ROOT}.paths": "base", f"{ROOT}.data": "data",
          f"{ROOT}.synth": "synth", f"{ROOT}.cohorts": "cohorts",
          f"{ROOT}.stats": "statistics", f"{ROOT}.sdc": "statistics",
          f"{ROOT}.report": "report", f"{ROOT}.analyses": "analyses", f"{ROOT}.run": "run",
          f"{ROOT}.cli": "run"}
SYNTH_USERS = {"synth", "run"}  # layers that may import evalkit.synth
#: Functions whose documented public name starts with an underscore.
PUBLIC = {"os._exit"}  # the documented way for a forked child to exit
ATTRIBUTE_FUNCTIONS = {"getattr", "setattr", "hasattr", "delattr"}
SYS_MODULES = "sys.modules"
SYS_MODULES_WRITES = {"setdefault", "update", "pop", "popitem", "clear", "__setitem__",
                      "__delitem__"}


# ---------------------------------------------------------------- the modules


@dataclass(frozen=True)
class Module:
    """One evalkit module: its dotted name, file and whether it is a package's __init__."""

    name: str
    path: Path
    is_package: bool

    @property
    def package(self) -> str:
        """The package a relative import starts from."""
        return self.name if self.is_package else self.name.rpartition(".")[0]

    def where(self, line: int) -> str:
        return f"{self.path.relative_to(PACKAGE_DIR.parent)}:{line}"


def walk(folder: Path = PACKAGE_DIR, name: str = ROOT) -> list[Module]:
    """The package `name` in `folder` and every module below it, without importing any."""
    found = [Module(name, folder / "__init__.py", True)]
    for info in pkgutil.iter_modules([str(folder)]):
        if info.ispkg:
            found += walk(folder / info.name, f"{name}.{info.name}")
        else:
            found.append(Module(f"{name}.{info.name}", folder / f"{info.name}.py", False))
    return found


@functools.cache
def parsed() -> dict[Module, ast.Module]:
    return {m: ast.parse(m.path.read_text(encoding="utf-8"), str(m.path)) for m in walk()}


def is_private(name: str) -> bool:
    """`_name` or `__name`, not a dunder such as `__version__`."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def is_evalkit(module: str) -> bool:
    return module == ROOT or module.startswith(f"{ROOT}.")


# ---------------------------------------------------------------- imports and layers


@dataclass(frozen=True)
class Import:
    """One module an import statement names: `target` is a module where the name imported is
    a module (`from evalkit import stats` names evalkit.stats), else the module imported from."""

    line: int
    target: str
    text: str


def absolute(module: Module, node: ast.ImportFrom) -> str:
    """The module a `from ... import` reads from, relative imports resolved."""
    if not node.level:
        return node.module or ""
    parts = module.package.split(".")
    base = parts[:len(parts) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def imports(module: Module, tree: ast.Module, known: set[str]) -> Iterator[Import]:
    """Every module the file's import statements name, wherever the statement is."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(node.lineno, alias.name, ast.unparse(node))
        elif isinstance(node, ast.ImportFrom):
            source = absolute(module, node)
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                yield Import(node.lineno, sub if sub in known else source, ast.unparse(node))


def layer(module: str) -> str | None:
    """The layer of an evalkit module, by its longest matching prefix in LAYERS."""
    prefixes = [p for p in LAYERS if module == p or (p != ROOT and module.startswith(f"{p}."))]
    return LAYERS[max(prefixes, key=len)] if prefixes else None


def analysis(module: str) -> str | None:
    """`uptake` for evalkit.analyses.uptake and the modules in it; None elsewhere."""
    parts = module.split(".")
    return parts[2] if parts[:2] == [ROOT, "analyses"] and len(parts) > 2 else None


def is_compute(module: str) -> bool:
    """An analysis's compute part: evalkit.analyses.X.compute, or compute_*.py beside it."""
    parts = module.split(".")
    return analysis(module) is not None and len(parts) > 3 and parts[3].startswith("compute")


def edge_problem(source: str, target: str) -> str | None:
    """Why `source` may not import `target` (both evalkit modules), or None when it may."""
    src, dst = layer(source), layer(target)
    if src is None or dst is None:
        return f"{source if src is None else target} is in no layer (add it to LAYERS)"
    if RANKS[dst] > RANKS[src]:
        return f"the {src} layer imports the higher {dst} layer"
    if dst == "synth" and src not in SYNTH_USERS:
        return "only the run layer (and tests) may import evalkit.synth"
    if analysis(source) and analysis(target) and analysis(source) != analysis(target):
        return "an analysis imports another analysis"
    if is_compute(source) and dst == "report":
        return "an analysis's compute part imports the report layer (it has no display)"
    return None


def layer_violations() -> list[str]:
    """`file:line: statement -- reason` for every evalkit import that breaks a layer rule."""
    known = {m.name for m in parsed()}
    found = []
    for module, tree in parsed().items():
        for imp in imports(module, tree, known):
            if is_evalkit(imp.target) and imp.target != module.name:
                problem = edge_problem(module.name, imp.target)
                if problem:
                    found.append(f"{module.where(imp.line)}: {imp.text} -- {problem}")
    return list(dict.fromkeys(found))  # once per statement, however many names it imports


def test_the_walk_finds_every_python_file() -> None:
    assert {m.path for m in walk()} == set(PACKAGE_DIR.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    assert [m.name for m in parsed() if layer(m.name) is None] == []


@pytest.mark.parametrize("source, target, problem", [
    ("evalkit.stats.spc", "evalkit.report.style", "higher report layer"),
    ("evalkit.paths", "evalkit", "higher data layer"),
    ("evalkit.cohorts", "evalkit.synth.generator", "only the run layer"),
    ("evalkit.analyses.outcomes.compute", "evalkit.analyses.uptake.compute", "another analysis"),
    ("evalkit.analyses.uptake.compute_dp", "evalkit.report.findings", "compute part"),
    ("evalkit.report.style", "evalkit.newthing", "in no layer"),
    ("evalkit.analyses.uptake.display", "evalkit.report.style", None),
    ("evalkit.analyses.uptake.display", "evalkit.analyses.uptake.compute", None),
    ("evalkit.run.preload", "evalkit.analyses.uptake", None),
    ("evalkit.cli", "evalkit.synth.generator", None),
    ("evalkit.synth.generator", "evalkit.data.codes", None),
    ("evalkit.data.load", "evalkit", None),
])
def test_layer_rules_on_planted_imports(source: str, target: str, problem: str | None) -> None:
    found = edge_problem(source, target)
    assert found is None if problem is None else problem in (found or "")


def test_imports_point_down_the_layers() -> None:
    assert layer_violations() == []


# ---------------------------------------------------------------- private names


def dotted(node: ast.expr) -> str | None:
    """`a.b.c` for a chain of names and attributes, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


def bindings(tree: ast.Module) -> dict[str, str]:
    """Each name an import binds, anywhere in the file, to what it names (`import os.path`
    binds os to "os"; `from sys import modules as m` binds m to "sys.modules"; a relative
    import binds a name in evalkit)."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                name = a.name if a.asname else a.name.split(".")[0]
                bound[a.asname or name] = name
        elif isinstance(node, ast.ImportFrom):
            module = ROOT if node.level else node.module  # relative: within evalkit
            for a in node.names:
                bound[a.asname or a.name] = f"{module}.{a.name}"
    return bound


def resolve(node: ast.expr, bound: dict[str, str]) -> str | None:
    """The dotted name of `node` with its first name replaced by what an import bound it to."""
    name = dotted(node)
    if name is None:
        return None
    first, _, rest = name.partition(".")
    return ".".join(filter(None, [bound.get(first, first), rest]))


@dataclass(frozen=True)
class ClassScope:
    """A class: the private names it defines, and its bases from other libraries."""

    defines: frozenset[str]
    foreign_bases: tuple[str, ...]


def class_scope(node: ast.ClassDef, foreign: set[str]) -> ClassScope:
    defines = {n.name for n in node.body
               if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
    defines |= {t.id for n in node.body if isinstance(n, ast.Assign | ast.AnnAssign)
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                if isinstance(t, ast.Name)}
    defines |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
                and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name)
                and n.value.id in ("self", "cls")}
    bases = tuple(ast.unparse(b) for b in node.bases
                  if (dotted(b) or "").split(".")[0] in foreign)
    return ClassScope(frozenset(defines), bases)


def given_names(tree: ast.Module) -> set[str]:
    """Names the file gives to objects: methods and class attributes of its classes, keyword
    arguments (`parser.set_defaults(_module=m)` gives the parsed arguments `_module`) and
    attributes it sets (`obj._x = 1`)."""
    names = {n.arg for n in ast.walk(tree) if isinstance(n, ast.keyword) and n.arg}
    names |= {n.attr for n in ast.walk(tree)
              if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            names |= class_scope(node, set()).defines
    return names


class PrivateNames(ast.NodeVisitor):
    """Collects (line, message) for each use of another library's private names."""

    def __init__(self, tree: ast.Module) -> None:
        self.bound = bindings(tree)
        self.foreign = {k for k, v in self.bound.items() if not is_evalkit(v)}
        self.given = given_names(tree)
        self.classes: list[ClassScope] = []
        self.found: list[tuple[int, str]] = []

    def flag(self, node: ast.AST, message: str) -> None:
        self.found.append((node.lineno, message))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.append(class_scope(node, self.foreign))
        self.generic_visit(node)
        self.classes.pop()

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if not is_evalkit(a.name) and any(is_private(p) for p in a.name.split(".")):
                self.flag(node, f"imports the private module {a.name}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or is_evalkit(node.module or ""):
            return
        parts = (node.module or "").split(".")
        if any(is_private(p) for p in parts):
            self.flag(node, f"imports from the private module {node.module}")
        for a in node.names:
            if is_private(a.name):
                self.flag(node, f"imports the private name {node.module}.{a.name}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if is_private(node.attr):
            self.check(node, node.value, node.attr)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ATTRIBUTE_FUNCTIONS and len(node.args) > 1:
            name = node.args[1]
            if isinstance(name, ast.Constant) and isinstance(name.value, str) \
                    and is_private(name.value):
                self.check(node, node.args[0], name.value)
        if isinstance(func, ast.Attribute) and func.attr in SYS_MODULES_WRITES \
                and resolve(func.value, self.bound) == SYS_MODULES:
            self.flag(node, f"changes sys.modules ({ast.unparse(node)})")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.ctx, ast.Store | ast.Del) \
                and resolve(node.value, self.bound) == SYS_MODULES:
            self.flag(node, f"changes sys.modules ({ast.unparse(node)})")
        self.generic_visit(node)

    def check(self, node: ast.AST, owner: ast.expr, attr: str) -> None:
        """Flag `owner.attr` (attr private) unless owner is evalkit's own."""
        if f"{resolve(owner, self.bound)}.{attr}" in PUBLIC:
            return
        scope = self.classes[-1] if self.classes else None
        if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
            if scope and scope.foreign_bases and attr not in scope.defines:
                self.flag(node, f"uses {owner.id}.{attr}, a private name of its base class "
                                f"{', '.join(scope.foreign_bases)}")
            return
        if ast.unparse(owner) == "super()":
            if scope is None or scope.foreign_bases:
                self.flag(node, f"uses super().{attr}, a private name of a base class")
            return
        root = (dotted(owner) or "").split(".")[0]
        if root in self.foreign:
            self.flag(node, f"uses the private name {resolve(owner, self.bound)}.{attr}")
        elif root not in self.bound and attr not in self.given:
            self.flag(node, f"uses the private name {ast.unparse(owner)}.{attr}")


def private_uses(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, message) for each use of another library's private names in `tree`."""
    visitor = PrivateNames(tree)
    visitor.visit(tree)
    return sorted(visitor.found)


PLANTED = textwrap.dedent('''\
    import asyncio
    import os
    import sys
    from jupyter_client.manager import AsyncKernelManager, _x
    from evalkit.sdc import disclosure


    class Cache:
        def __init__(self):
            self._cache = {}

        def get(self):
            return self._cache, disclosure._Grid, os._exit


    class Kernel(AsyncKernelManager):
        def _own(self):
            return self._own, self._reconcile_connection_info()

        async def _async_launch_kernel(self):
            await super()._async_launch_kernel()


    asyncio.events._set_running_loop(None)
    sys.modules["rfc3987_syntax"] = None
    sys.modules.setdefault("rfc3987_syntax", None)
    getattr(sys, "_xoptions")
    args = parser.parse_args(set_defaults(_module="m"))
    args._module, args._other
    ''')


def test_private_name_check_flags_a_planted_snippet() -> None:
    lines = PLANTED.splitlines()
    flagged = {lines[line - 1].strip() for line, _ in private_uses(ast.parse(PLANTED))}
    assert flagged == {
        "from jupyter_client.manager import AsyncKernelManager, _x",
        "return self._own, self._reconcile_connection_info()",
        "await super()._async_launch_kernel()",
        "asyncio.events._set_running_loop(None)",
        'sys.modules["rfc3987_syntax"] = None',
        'sys.modules.setdefault("rfc3987_syntax", None)',
        'getattr(sys, "_xoptions")',
        "args._module, args._other",
    }


def test_no_module_uses_another_librarys_private_names() -> None:
    found = [f"{m.where(line)}: {message}" for m, tree in parsed().items()
             for line, message in private_uses(tree)]
    assert found == []


# ---------------------------------------------------------------- size


def test_no_module_is_over_the_line_limit() -> None:
    sizes = {m.name: len(m.path.read_text(encoding="utf-8").splitlines()) for m in parsed()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


# ---------------------------------------------------------------- the tests themselves


def imported_modules(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    return [] if node.level else [node.module or ""]


def test_no_test_module_imports_another() -> None:
    test_modules = {p.stem for p in TESTS_DIR.glob("test_*.py")} | {"conftest"}
    found = [f"{path.relative_to(TESTS_DIR)}:{node.lineno}: {ast.unparse(node)}"
             for path in sorted(TESTS_DIR.rglob("*.py"))
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Import | ast.ImportFrom)
             and any(m.split(".")[0] in test_modules for m in imported_modules(node))]
    assert found == []
