"""Expressions and assignment targets -> IR tuples (summary.py lists the shapes); calls
found inside an expression are recorded with the context they run in. A mixin of the
Extractor (extract.py), which owns the summary, the current function and context."""

from __future__ import annotations

import ast

from statetui.audit.review.summary import H_CONTINUE, H_PASS, H_RAISE, H_RERAISE, H_RETURN, NONE, UNKNOWN, Summary

def dotted(e: ast.AST | None) -> str:
    """`os.path.join` -> "os.path.join"; "" when not a plain dotted name."""
    parts = []
    while isinstance(e, ast.Attribute):
        parts.append(e.attr)
        e = e.value
    if not isinstance(e, ast.Name):
        return ""
    parts.append(e.id)
    return ".".join(reversed(parts))


def type_name(e: ast.expr | None) -> str:
    """The class an annotation names: `State`, `Optional[State]`, `State | None`, "State"."""
    if e is None:
        return ""
    if isinstance(e, ast.Constant) and isinstance(e.value, str):
        return e.value.strip().split("[", 1)[0]
    if isinstance(e, ast.Subscript):
        if dotted(e.value).rsplit(".", 1)[-1] in ("Optional", "Annotated", "Final", "ClassVar"):
            s = e.slice
            return type_name(s.elts[0] if isinstance(s, ast.Tuple) and s.elts else s)
        return ""
    if isinstance(e, ast.BinOp) and isinstance(e.op, ast.BitOr):
        left = type_name(e.left)
        return left if left and left != "None" else type_name(e.right)
    return dotted(e)


def terminal(body: list[ast.stmt]) -> bool:
    return any(isinstance(s, (ast.Return, ast.Raise, ast.Continue, ast.Break)) for s in body)


def handler_flags(body: list[ast.stmt]) -> frozenset[str]:
    flags: set[str] = set()
    stack = list(body)
    only_pass = True
    while stack:
        s = stack.pop()
        t = type(s)
        if t is ast.Raise:
            flags.add(H_RERAISE if s.exc is None else H_RAISE)
        elif t is ast.Return:
            flags.add(H_RETURN)
        elif t is ast.Continue or t is ast.Break:
            flags.add(H_CONTINUE)
        elif t in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            continue
        if not (t is ast.Pass or (t is ast.Expr and isinstance(s.value, ast.Constant))):
            only_pass = False
        for name in ("body", "orelse", "finalbody", "handlers"):
            stack.extend(getattr(s, name, ()) or ())
    if only_pass:
        flags.add(H_PASS)
    return frozenset(flags)


BINOPS = {ast.Div: "/", ast.Add: "+", ast.Mod: "%", ast.BitOr: "|"}



_LOG_CALLS = {"debug", "info", "warning", "warn", "error", "exception", "critical"}


class ExprIR:
    s: Summary
    f: int
    cls: str | None
    ctx: int
    expr: dict

    def ir(self, e: ast.expr | None) -> tuple:
        t = type(e)
        if t is ast.Name:  # the commonest nodes first, without a dispatch
            return ("n", e.id)
        if t is ast.Attribute:
            return ("a", self.ir(e.value), e.attr)
        if t is ast.Constant:
            v = e.value
            tv = type(v)
            if tv is str:
                return ("k", v) if len(v) <= 400 else NONE
            return ("k", v) if v is None or tv is int or tv is bool else NONE
        if t is ast.Compare:
            self.ir(e.left)
            for c in e.comparators:
                self.ir(c)
            return UNKNOWN
        if t is ast.UnaryOp:
            self.ir(e.operand)
            return UNKNOWN
        if e is None:
            return NONE
        h = self.expr.get(t)
        if h is not None:
            return h(e)
        for child in ast.iter_child_nodes(e):  # lambdas, comprehensions, comparisons: calls only
            if isinstance(child, ast.expr):
                self.ir(child)
            elif isinstance(child, ast.comprehension):
                self.ir(child.iter)
                self._bind(child.target, ("it", UNKNOWN))
                for c in child.ifs:
                    self.ir(c)
        return UNKNOWN

    def _const(self, e: ast.Constant) -> tuple:
        v = e.value
        if v is None or isinstance(v, (bool, int)) or (isinstance(v, str) and len(v) <= 400):
            return ("k", v)
        return NONE

    def _call(self, e: ast.Call) -> tuple:
        fn = self.ir(e.func)
        f = e.func
        if (type(f) is ast.Attribute and f.attr in _LOG_CALLS) or (type(f) is ast.Name and f.id == "print"):
            # a log line: what it says never matters to persistence, only that it is there
            args, kws = (), ()
        else:
            args = tuple(map(self.ir, e.args))
            kws = tuple([(k.arg, self.ir(k.value)) for k in e.keywords]) if e.keywords else ()
        calls = self.s.calls
        calls.append((e.lineno, self.f, fn, args, kws, self.ctx))
        return ("c", len(calls) - 1)

    def _binop(self, e: ast.BinOp) -> tuple:
        left, right = self.ir(e.left), self.ir(e.right)
        op = BINOPS.get(type(e.op))
        return ("b", op, left, right) if op else UNKNOWN

    def _fstring(self, e: ast.JoinedStr) -> tuple:
        parts = []
        for v in e.values:
            if isinstance(v, ast.FormattedValue):
                parts.append(self.ir(v.value))
            else:
                parts.append(self._const(v))
        return ("f", tuple(parts))

    def _ifexp(self, e: ast.IfExp) -> tuple:
        self.ir(e.test)
        return ("i", self.ir(e.body), self.ir(e.orelse))

    def _dict(self, e: ast.Dict) -> tuple:
        pairs = []
        for k, v in zip(e.keys, e.values):
            key = k.value if isinstance(k, ast.Constant) and isinstance(k.value, str) else None
            if k is not None and key is None:
                self.ir(k)
            val = self.ir(v)
            if key is not None:
                self.s.assigns.append((("K", key), val, self.f, None, self.ctx, e.lineno))
            pairs.append((key, val))
        return ("d", tuple(pairs))

    def _seq(self, e) -> tuple:
        return ("t", tuple(self.ir(x) for x in e.elts))

    def _namedexpr(self, e: ast.NamedExpr) -> tuple:
        v = self.ir(e.value)
        self._bind(e.target, v)
        return v

    # --- binding --------------------------------------------------------------------------
    def _key(self, t: ast.expr) -> tuple | None:
        fn = self.s.funcs[self.f]
        if isinstance(t, ast.Name):
            if self.cls is not None:
                return ("CA", self.cls, t.id)
            if fn.is_module or t.id in fn.globals:
                return ("G", t.id)
            fn.locals.add(t.id)
            return ("L", self.f, t.id)
        if isinstance(t, ast.Attribute):
            base = t.value
            if isinstance(base, ast.Name) and base.id in ("self", "cls"):
                owner = self._owner()
                if owner is not None:
                    return ("CA", owner, t.attr)
            return ("A", t.attr, self.ir(base))
        if isinstance(t, ast.Subscript):
            self.ir(t.value)
            k = t.slice
            if isinstance(k, ast.Constant) and isinstance(k.value, str):
                return ("K", k.value)
            self.ir(k)
        return None

    def _owner(self) -> str | None:
        """The class of the method the walk is in (through nested functions)."""
        i: int | None = self.f
        funcs = self.s.funcs
        while i is not None:
            fn = funcs[i]
            if fn.cls is not None:
                return fn.cls
            i = fn.parent
        return None

    def _bind(self, target: ast.expr, value: tuple, line: int = 0) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            elts = target.elts
            if value[0] == "t" and len(value[1]) == len(elts):
                for t, v in zip(elts, value[1]):
                    self._bind(t, v, line)
                return
            for i, t in enumerate(elts):
                if isinstance(t, ast.Starred):
                    t = t.value
                key = self._key(t)
                if key is not None:
                    self.s.assigns.append((key, value, self.f, i, self.ctx, line))
            return
        if isinstance(target, ast.Starred):
            target = target.value
        key = self._key(target)
        if key is not None:
            self.s.assigns.append((key, value, self.f, None, self.ctx, line or getattr(target, "lineno", 0)))

