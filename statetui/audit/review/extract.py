"""One Python file -> a `Summary` (summary.py): what the later stages need, as small
tuples; the AST is dropped once walked. Nothing here knows the state path, so a summary
stays valid for any configuration (and in the cache)."""

from __future__ import annotations

import ast

from statetui.audit.review.exprs import BINOPS, ExprIR, dotted, handler_flags, terminal, type_name
from statetui.audit.review.summary import H_PASS, NONE, UNKNOWN, Func, Klass, Summary


class Extractor(ExprIR):
    def __init__(self, path: str) -> None:
        self.s = Summary(path)
        self._ctx_ids: dict[tuple, int] = {((), (), (), ()): 0}
        self.f = 0  # current function index
        self.cls: str | None = None  # set directly inside a class body
        self.ctx = 0
        self.ctup: tuple = ((), (), (), ())
        self.next_node = 0
        self.expr = {
            ast.Constant: self._const, ast.Name: lambda e: ("n", e.id),
            ast.Attribute: lambda e: ("a", self.ir(e.value), e.attr), ast.Call: self._call,
            ast.BinOp: self._binop, ast.JoinedStr: self._fstring, ast.IfExp: self._ifexp,
            ast.BoolOp: lambda e: ("o", tuple(self.ir(v) for v in e.values)),
            ast.Subscript: lambda e: ("s", self.ir(e.value), self.ir(e.slice)),
            ast.Dict: self._dict, ast.Tuple: self._seq, ast.List: self._seq, ast.Set: self._seq,
            ast.Await: lambda e: self.ir(e.value), ast.Starred: lambda e: ("*", self.ir(e.value)),
            ast.NamedExpr: self._namedexpr,
        }

    # --- contexts ---------------------------------------------------------------------
    def _enter(self, tries=None, handlers=None, withs=None, branch=None) -> tuple:
        saved = (self.ctx, self.ctup)
        t, h, w, b = self.ctup
        tup = (t if tries is None else tries, h if handlers is None else handlers,
               w if withs is None else withs, b if branch is None else branch)
        cid = self._ctx_ids.get(tup)
        if cid is None:
            cid = self._ctx_ids[tup] = len(self.s.ctxs)
            self.s.ctxs.append(tup)
        self.ctx, self.ctup = cid, tup
        return saved

    def _leave(self, saved: tuple) -> None:
        self.ctx, self.ctup = saved

    def _node(self) -> int:
        self.next_node += 1
        return self.next_node

    # --- statements -----------------------------------------------------------------------
    def run(self, tree: ast.Module) -> Summary:
        self.s.funcs.append(Func("<module>", "<module>", None, None, 1, is_module=True))
        self.block(tree.body)
        return self.s

    def block(self, body: list[ast.stmt]) -> None:
        for st in body:
            h = _STMT.get(type(st))
            if h is not None:
                h(self, st)
            else:
                self._generic(st)

    def _generic(self, st: ast.stmt) -> None:
        for child in ast.iter_child_nodes(st):
            if isinstance(child, ast.expr):
                self.ir(child)
            elif isinstance(child, ast.stmt):
                self.block([child])
            elif isinstance(child, ast.match_case):
                self.block(child.body)

    def _expr(self, st: ast.Expr) -> None:
        self.ir(st.value)

    def _assign(self, st: ast.Assign) -> None:
        v = self.ir(st.value)
        for t in st.targets:
            self._bind(t, v, st.lineno)

    def _annassign(self, st: ast.AnnAssign) -> None:
        ann = type_name(st.annotation)
        if self.cls is not None and isinstance(st.target, ast.Name):
            self.s.classes[self.cls].fields.append(st.target.id)
        if ann and ann != "None":
            self._bind(st.target, ("T", ann), st.lineno)
        if st.value is not None:
            self._bind(st.target, self.ir(st.value), st.lineno)
        elif self.cls is None and isinstance(st.target, ast.Name):
            self._key(st.target)  # `x: int` in a function still makes x local

    def _augassign(self, st: ast.AugAssign) -> None:
        v = self.ir(st.value)
        cur = ("n", st.target.id) if isinstance(st.target, ast.Name) else UNKNOWN
        op = BINOPS.get(type(st.op))
        self._bind(st.target, ("b", op, cur, v) if op else UNKNOWN, st.lineno)

    def _return(self, st: ast.Return) -> None:
        v = self.ir(st.value) if st.value is not None else NONE
        self.s.returns.append((self.f, v, self.ctx, st.lineno))

    def _import(self, st: ast.Import) -> None:
        fn = self.s.funcs[self.f]
        for a in st.names:
            name = a.asname or a.name.split(".", 1)[0]
            self.s.imports[name] = a.name if a.asname else name
            if not fn.is_module:
                fn.locals.discard(name)  # a function-level import: still resolved through imports

    def _importfrom(self, st: ast.ImportFrom) -> None:
        base = "." * (st.level or 0) + (st.module or "")
        for a in st.names:
            if a.name != "*":
                sep = "" if base.endswith(".") or not base else "."
                self.s.imports[a.asname or a.name] = f"{base}{sep}{a.name}"

    def _global(self, st) -> None:
        self.s.funcs[self.f].globals.update(st.names)

    def _funcdef(self, st) -> None:
        for d in st.decorator_list:
            self.ir(d)
        args = st.args
        parent = None if self.s.funcs[self.f].is_module else self.f
        if self.cls is not None:
            qual = f"{self.cls}.{st.name}"
        elif parent is not None:
            qual = f"{self.s.funcs[parent].qual}.{st.name}"
        else:
            qual = st.name
        fn = Func(st.name, qual, self.cls, parent, st.lineno)
        fn.decos = tuple(dotted(d.func if isinstance(d, ast.Call) else d) for d in st.decorator_list)
        fn.is_async = isinstance(st, ast.AsyncFunctionDef)
        fn.end = getattr(st, "end_lineno", st.lineno) or st.lineno
        positional = args.posonlyargs + args.args
        fn.params = [a.arg for a in positional] + [a.arg for a in args.kwonlyargs]
        fn.npos = len(positional)
        for a in positional + args.kwonlyargs:
            t = type_name(a.annotation)
            if t and t != "None":
                fn.ann[a.arg] = t
        fn.locals.update(fn.params)
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                fn.locals.add(extra.arg)
        funcs = self.s.funcs
        funcs.append(fn)
        fid = len(funcs) - 1
        # defaults are evaluated where the function is defined
        for p, d in zip(fn.params[fn.npos - len(args.defaults): fn.npos], args.defaults):
            self.s.assigns.append((("L", fid, p), self.ir(d), self.f, None, self.ctx, st.lineno))
        for a, d in zip(args.kwonlyargs, args.kw_defaults):
            if d is not None:
                self.s.assigns.append((("L", fid, a.arg), self.ir(d), self.f, None, self.ctx, st.lineno))
        if self.cls is None and not self.s.funcs[self.f].is_module:
            self.s.funcs[self.f].locals.add(st.name)
        saved_f, saved_cls = self.f, self.cls
        saved = self._enter((), (), (), ())
        self.f, self.cls = fid, None
        self.block(st.body)
        self.f, self.cls = saved_f, saved_cls
        self._leave(saved)

    def _classdef(self, st: ast.ClassDef) -> None:
        for d in st.decorator_list:
            self.ir(d)
        for b in st.bases:
            self.ir(b)
        name = st.name if self.cls is None else f"{self.cls}.{st.name}"
        k = Klass(name, st.lineno, tuple(dotted(b) for b in st.bases),
                  tuple(dotted(d.func if isinstance(d, ast.Call) else d) for d in st.decorator_list))
        self.s.classes[name] = k
        saved_cls = self.cls
        self.cls = name
        self.block(st.body)
        self.cls = saved_cls

    def _try(self, st) -> None:
        tries = self.s.tries
        tid = len(tries)
        node = self._node()
        t, h, w, b = self.ctup
        handlers = []
        tries.append((st.lineno, self.f, handlers))
        saved = self._enter(tries=t + (tid,), branch=b + ((node, 0, terminal(st.body)),))
        self.block(st.body)
        self._leave(saved)
        for i, hd in enumerate(st.handlers):
            types: tuple[str, ...]
            if hd.type is None:
                types = ()
            elif isinstance(hd.type, ast.Tuple):
                types = tuple(dotted(x).rsplit(".", 1)[-1] for x in hd.type.elts)
            else:
                types = (dotted(hd.type).rsplit(".", 1)[-1],)
            hid = (tid, i)
            handlers.append((types, hd.lineno, handler_flags(hd.body), hid))
            saved = self._enter(handlers=h + (hid,), branch=b + ((node, i + 1, terminal(hd.body)),))
            if hd.name and not self.s.funcs[self.f].is_module:
                self.s.funcs[self.f].locals.add(hd.name)
            self.block(hd.body)
            self._leave(saved)
        saved = self._enter(branch=b + ((node, 0, terminal(st.orelse)),))
        self.block(st.orelse)
        self._leave(saved)
        self.block(st.finalbody)

    def _with(self, st) -> None:
        wids = []
        tries = self.ctup[0]
        for item in st.items:
            e = item.context_expr
            v = self.ir(e)
            wid = len(self.s.withs)
            self.s.withs.append((self.f, v, e.lineno, wid, self.ctx))
            wids.append(wid)
            if item.optional_vars is not None:
                self._bind(item.optional_vars, v, st.lineno)
            if isinstance(e, ast.Call) and dotted(e.func).rsplit(".", 1)[-1] == "suppress":
                # `with suppress(ValueError):` is a try whose handler does nothing
                tid = len(self.s.tries)
                types = tuple(dotted(a).rsplit(".", 1)[-1] for a in e.args)
                self.s.tries.append((st.lineno, self.f, [(types, st.lineno, frozenset({H_PASS}), (tid, 0))]))
                tries = tries + (tid,)
        saved = self._enter(tries=tries, withs=self.ctup[2] + tuple(wids))
        self.block(st.body)
        self._leave(saved)

    def _if(self, st: ast.If) -> None:
        self.ir(st.test)
        if (self.f == 0 and self.cls is None and isinstance(st.test, ast.Compare)
                and isinstance(st.test.left, ast.Name) and st.test.left.id == "__name__"):
            # the __main__ block runs only when the file is run, never on import: its own function
            self.s.main_line = st.lineno
            self.s.funcs.append(Func("<main>", "<main>", None, None, st.lineno, is_module=True))
            saved = self._enter((), (), (), ())
            self.f = len(self.s.funcs) - 1
            self.block(st.body)
            self.f = 0
            self._leave(saved)
            self.block(st.orelse)
            return
        node = self._node()
        b = self.ctup[3]
        saved = self._enter(branch=b + ((node, 0, terminal(st.body)),))
        self.block(st.body)
        self._leave(saved)
        if st.orelse:
            saved = self._enter(branch=b + ((node, 1, terminal(st.orelse)),))
            self.block(st.orelse)
            self._leave(saved)

    def _loop_body(self, body: list[ast.stmt]) -> None:
        saved = self._enter(branch=self.ctup[3] + ((self._node(), -1, False),))
        self.block(body)
        self._leave(saved)

    def _for(self, st) -> None:
        it = self.ir(st.iter)
        self._bind(st.target, ("it", it), st.lineno)
        self._loop_body(st.body)
        self.block(st.orelse)

    def _while(self, st: ast.While) -> None:
        self.ir(st.test)
        self._loop_body(st.body)
        self.block(st.orelse)


_STMT = {
    ast.Expr: Extractor._expr, ast.Assign: Extractor._assign, ast.AnnAssign: Extractor._annassign,
    ast.AugAssign: Extractor._augassign, ast.Return: Extractor._return, ast.Import: Extractor._import,
    ast.ImportFrom: Extractor._importfrom, ast.Global: Extractor._global, ast.Nonlocal: Extractor._global,
    ast.FunctionDef: Extractor._funcdef, ast.AsyncFunctionDef: Extractor._funcdef,
    ast.ClassDef: Extractor._classdef, ast.Try: Extractor._try, ast.With: Extractor._with,
    ast.AsyncWith: Extractor._with, ast.If: Extractor._if, ast.For: Extractor._for,
    ast.AsyncFor: Extractor._for, ast.While: Extractor._while,
}
if hasattr(ast, "TryStar"):
    _STMT[ast.TryStar] = Extractor._try


def extract(path: str, data: bytes) -> Summary:
    """Parse and summarize one file. Never raises: a file that cannot be parsed gives a
    summary with `problem` set (and nothing else)."""
    s = Summary(path)
    s.lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    try:
        tree = ast.parse(data, filename=path)
    except SyntaxError as exc:
        s.problem = (exc.lineno, f"syntax error: {exc.msg}")
        return s
    except (ValueError, UnicodeError) as exc:  # NUL bytes, undecodable source
        s.problem = (None, f"not Python source: {exc}")
        return s
    except (RecursionError, MemoryError):
        s.problem = (None, "too deeply nested to analyze")
        return s
    try:
        out = Extractor(path).run(tree)
    except RecursionError:
        s.problem = (None, "too deeply nested to analyze")
        return s
    out.lines = s.lines
    return out
