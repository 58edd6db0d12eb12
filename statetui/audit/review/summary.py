"""What the review keeps of a Python file: a `Summary` of small tuples.

A summary never holds AST nodes: it travels back from the parsing workers (as marshal
data, see to_wire) and stays in the cache, and a tree of a big file costs far more memory
(and garbage-collector time) than what we keep of it.

Expressions become IR tuples, the first item saying what they are:
  ("k", const)            a str/int/bool/None constant (other constants: ("k", None))
  ("n", name)             a name read          ("a", base, attr)   an attribute
  ("c", call_index)       a call (see Summary.calls)
  ("b", op, left, right)  "/", "+", "%", "|"  ("f", parts)        an f-string
  ("i", a, b)             `a if ... else b`    ("o", values)       `a or b`
  ("s", base, key)        a subscript          ("d", pairs)        a dict literal
  ("t", elts)             a tuple/list/set     ("*", value)        a starred value
  ("it", iterable)        an element of it (for-loop targets)
  ("T", "dotted.Type")    an annotation (an instance of that class)
  ("?",)                  anything else
"""

from __future__ import annotations

UNKNOWN = ("?",)
NONE = ("k", None)

# Handler body flags: what an `except` block does.
H_RAISE, H_RERAISE, H_RETURN, H_PASS, H_CONTINUE = "raise", "reraise", "return", "pass", "continue"


class Func:
    __slots__ = ("name", "qual", "cls", "parent", "line", "params", "npos", "locals", "globals",
                 "is_module", "decos", "ann", "is_async", "end")

    def __init__(self, name: str, qual: str, cls: str | None, parent: int | None, line: int,
                 is_module: bool = False) -> None:
        self.name, self.qual, self.cls, self.parent, self.line = name, qual, cls, parent, line
        self.params: list[str] = []
        self.npos = 0  # positional parameters (self included)
        self.locals: set[str] = set()
        self.globals: set[str] = set()
        self.is_module = is_module
        self.decos: tuple[str, ...] = ()
        self.ann: dict[str, str] = {}  # parameter -> annotated type (dotted)
        self.is_async = False
        self.end = line


class Klass:
    __slots__ = ("name", "line", "bases", "decos", "fields")

    def __init__(self, name: str, line: int, bases: tuple[str, ...], decos: tuple[str, ...]) -> None:
        self.name, self.line, self.bases, self.decos = name, line, bases, decos
        self.fields: list[str] = []  # annotated class-body names, in order (dataclass fields)


class Summary:
    """Calls: (line, func, callee IR, args, keywords, ctx). Assigns: (key, IR, func, tuple
    element or None, ctx, line); keys: ("G", name), ("L", func, name), ("CA", class, attr),
    ("A", attr, base IR), ("K", dict key). Returns: (func, IR, ctx, line). Withs: (func, IR, line,
    with id, ctx). Tries: (line, func, handlers), a handler being (caught type names, line,
    flags, id). A ctx indexes `ctxs`: (enclosing try ids, enclosing handler ids, enclosing
    with ids, branch path), the branch path being (node id, branch, ends in return/raise);
    branch -1 marks a loop body."""

    __slots__ = ("path", "lines", "problem", "imports", "funcs", "classes", "assigns", "returns",
                 "calls", "withs", "tries", "ctxs", "main_line", "embedded")

    def __init__(self, path: str) -> None:
        self.path = path
        self.lines = 0
        self.problem: tuple[int | None, str] | None = None
        self.imports: dict[str, str] = {}
        self.funcs: list[Func] = []
        self.classes: dict[str, Klass] = {}
        self.assigns: list[tuple] = []
        self.returns: list[tuple] = []
        self.calls: list[tuple] = []
        self.withs: list[tuple] = []
        self.tries: list[tuple] = []
        self.ctxs: list[tuple] = [((), (), (), ())]
        self.main_line: int | None = None  # `if __name__ == "__main__":`
        self.embedded: tuple[str, int] | None = None  # (shell script, line offset) for a here-doc



def to_wire(s: Summary) -> tuple:
    funcs = tuple((f.name, f.qual, f.cls, f.parent, f.line, f.params, f.npos, list(f.locals), list(f.globals),
                   f.is_module, f.decos, f.ann, f.is_async, f.end) for f in s.funcs)
    classes = {n: (k.name, k.line, k.bases, k.decos, k.fields) for n, k in s.classes.items()}
    return (s.path, s.lines, s.problem, s.imports, funcs, classes, s.assigns, s.returns, s.calls, s.withs,
            s.tries, s.ctxs, s.main_line)


def from_wire(w: tuple) -> Summary:
    s = Summary(w[0])
    s.lines, s.problem, s.imports = w[1], w[2], w[3]
    for t in w[4]:
        f = Func(t[0], t[1], t[2], t[3], t[4], t[9])
        f.params, f.npos, f.locals, f.globals = t[5], t[6], set(t[7]), set(t[8])
        f.decos, f.ann, f.is_async, f.end = t[10], t[11], t[12], t[13]
        s.funcs.append(f)
    for n, t in w[5].items():
        k = Klass(t[0], t[1], t[2], t[3])
        k.fields = t[4]
        s.classes[n] = k
    s.assigns, s.returns, s.calls, s.withs, s.tries, s.ctxs, s.main_line = w[6], w[7], w[8], w[9], w[10], w[11], w[12]
    return s
