"""NumPy code from closed forms: functions a person could have written, and can read.

:func:`numpy_source` writes a Python function for one or more expressions; :func:`lambdify`
compiles it (the source is kept on the function as ``.source`` and shown by tracebacks and
pdb). The code is as lean as hand-written NumPy:

* every value used twice is computed once (``t1 = W1 @ X``), and a product that appears
  inside a longer one is reused there (W₃W₂W₁X is evaluated as ``W3 @ W2 @ t1``);
* vectors are 1-D arrays, so a transpose of a vector costs nothing, column × row is
  ``np.outer``, and a chain of three or more matrices goes to ``np.linalg.multi_dot``
  (which picks the cheapest order at run time); a chain ending in a vector is evaluated right
  to left (matrix–vector products only);
* numbers multiply the result of a product, never a whole matrix (``-2 * (A.T @ r)``);
* ‖u‖² is ``np.vdot(u, u)`` (no square root), tr(AᵀB) is ``np.vdot(A, B)``, and a diagonal
  matrix in a product is a broadcast multiplication, never formed;
* a vector written with more transposes than its transpose (xᵀBᵀB) is computed as the
  transpose of that (BᵀBx), so both share one value.

Example:
    >>> from chainrule.symbolic.matrix import parse, gradient
    >>> g = gradient(parse("norm2(y - A*x)^2"), "x")
    >>> print(numpy_source(g, args=["A", "x", "y"], name="grad_f"))
    def grad_f(A, x, y):
        \"\"\"−2Aᵀ(y − Ax)\"\"\"
        return -2 * (A.T @ (y - A @ x))
    <BLANKLINE>
"""

from __future__ import annotations

import itertools
import linecache
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as onp

from chainrule.symbolic.matrix.expr import (
    ELEMENTWISE, Add, Det, Diag, Elementwise, Expr, Hadamard, Identity, Inner, Inverse, LogDet,
    Mul, Norm, Number, Ones, Power, Sum, Symbol, Text, Trace, Transpose, Zero,
)
from chainrule.symbolic.matrix.printing import text
from chainrule.symbolic.matrix.simplify import make_mul, simplify, split_mul, transpose_count

__all__ = ["numpy_source", "lambdify"]

_SIGMOID = '''def _sigmoid(u):
    """σ(u) = 1/(1 + e⁻ᵘ), written with tanh so that it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * u))
'''


@dataclass(frozen=True)
class _SquaredNorm(Expr):
    """‖u‖², computed as np.vdot(u, u)."""

    arg: Expr

    @property
    def shape(self):
        return (1, 1)

    def children(self):
        return (self.arg,)

    def rebuild(self, children):
        return _SquaredNorm(children[0])


@dataclass(frozen=True)
class _Vdot(Expr):
    """tr(AᵀB) = Σᵢⱼ AᵢⱼBᵢⱼ, computed as np.vdot(A, B)."""

    a: Expr
    b: Expr

    @property
    def shape(self):
        return (1, 1)

    def children(self):
        return (self.a, self.b)

    def rebuild(self, children):
        return _Vdot(*children)


def _canonical(e: Expr, memo: dict) -> Expr:
    """The tree rewritten into the cheaper forms the module docstring lists."""
    if e in memo:
        return memo[e]
    kids = e.children()
    out = e.rebuild(tuple(_canonical(k, memo) for k in kids)) if kids else e
    if isinstance(out, Power) and isinstance(out.base, Norm) and out.exponent % 2 == 0:
        sq = _SquaredNorm(out.base.arg)
        out = sq if out.exponent == 2 else Power(sq, out.exponent // 2)
    elif isinstance(out, Inner):
        out = _Vdot(out.a, out.b)
    elif isinstance(out, Trace) and isinstance(out.arg, Mul):
        coeff, scalars, chain = split_mul(out.arg)
        if len(chain) == 2 and isinstance(chain[0], Transpose) and not scalars and coeff == 1:
            out = _Vdot(chain[0].arg, chain[1])
    elif isinstance(out, Mul):
        coeff, scalars, chain = split_mul(out)
        if len(chain) >= 2 and (out.shape[0] == 1 or out.shape[1] == 1):  # free for vectors
            flipped = tuple(_flip(f) for f in reversed(chain))
            if sum(map(transpose_count, flipped)) < sum(map(transpose_count, chain)):
                out = make_mul(coeff, scalars, (Transpose(Mul(flipped)),))
    memo[e] = out
    return out


def _flip(f: Expr) -> Expr:
    if isinstance(f, Transpose) and not isinstance(f.arg, Inverse):
        return f.arg
    if isinstance(f, Symbol) and f.symmetric:
        return f
    return Transpose(f)


def _regroup(e: Expr, chains: dict, memo: dict) -> Expr:
    """Products containing a product computed elsewhere reuse it: W₃W₂(W₁X)."""
    if e in memo:
        return memo[e]
    kids = e.children()
    out = e.rebuild(tuple(_regroup(k, chains, memo) for k in kids)) if kids else e
    if isinstance(out, Mul):
        coeff, scalars, chain = split_mul(out)
        run = _longest_shared_run(chain, chains)
        if run is not None:
            start, stop = run
            shared = _regroup(chains[chain[start:stop]], chains, memo)
            out = make_mul(coeff, scalars, chain[:start] + (shared,) + chain[stop:])
    memo[e] = out
    return out


def _longest_shared_run(chain: tuple[Expr, ...], chains: dict) -> tuple[int, int] | None:
    """(start, stop) of the longest run of two or more factors of ``chain``, shorter than
    the whole chain, that is a product computed elsewhere (the leftmost of equal length)."""
    for length in range(len(chain) - 1, 1, -1):
        for start in range(len(chain) - length + 1):
            if chain[start:start + length] in chains:
                return start, start + length
    return None


def _all_chains(roots: list[Expr]) -> dict:
    """Each pure product (no numbers or scalars) by its tuple of factors."""
    chains: dict = {}
    for root in roots:
        for node in root.walk():
            if isinstance(node, Mul):
                coeff, scalars, chain = split_mul(node)
                if coeff == 1 and not scalars and len(chain) >= 2:
                    chains.setdefault(chain, node)
    return chains


ATOM, MUL, ADD = 3, 2, 1


class _Writer:
    def __init__(self, args: list[Symbol], roots: list[Expr]):
        self.lines: list[str] = []
        self.names: dict[Expr, str] = {}
        self.counter = itertools.count(1)
        self.uses: dict[Expr, int] = {}
        self.helpers: set[str] = set()
        self.dims = {}
        for s in args:
            axes = [d for d in s.shape if d != 1]
            for axis, d in enumerate(axes):
                self.dims.setdefault(d, f"{_py(s.name)}.shape[{axis}]")
        seen: set = set()
        for root in roots:
            self._count(root, seen)

    def _count(self, e: Expr, seen: set) -> None:
        stack = [e]
        while stack:
            node = stack.pop()
            self.uses[node] = self.uses.get(node, 0) + 1
            if node in seen:
                continue
            seen.add(node)
            stack.extend(node.children())

    def dim(self, d) -> str:
        if isinstance(d, int):
            return str(d)
        if d not in self.dims:
            raise ValueError(f"dimension {d!r} is not the size of any argument; pass an "
                             "argument that has it")
        return self.dims[d]

    def shape_code(self, e: Expr) -> str:
        dims = [self.dim(d) for d in e.shape if d != 1]
        return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"

    # one value ------------------------------------------------------------------------
    def value(self, e: Expr) -> tuple[str, int]:
        if e in self.names:
            return self.names[e], ATOM
        code, prec = self._code(e)
        if self.uses.get(e, 0) > 1 and not isinstance(e, (Symbol, Number)) and not (
                isinstance(e, Transpose) and isinstance(e.arg, Symbol)):
            name = f"t{next(self.counter)}"
            self.lines.append(f"{name} = {code}  # {text(_readable(e))}")
            self.names[e] = name
            return name, ATOM
        return code, prec

    def named(self, e: Expr) -> str:
        """A value needed twice in one expression: a name, never recomputed."""
        code, prec = self.value(e)
        if prec == ATOM and (code.isidentifier() or code.endswith(".T")):
            return code
        name = f"t{next(self.counter)}"
        self.lines.append(f"{name} = {code}  # {text(_readable(e))}")
        self.names[e] = name
        return name

    def at(self, e: Expr, level: int) -> str:
        code, prec = self.value(e)
        return code if prec >= level else f"({code})"

    def _code(self, e: Expr) -> tuple[str, int]:  # noqa: C901, PLR0912
        if isinstance(e, Symbol):
            return _py(e.name), ATOM
        if isinstance(e, Number):
            v = e.value
            return (repr(v) if v >= 0 else f"({v!r})"), ATOM
        if isinstance(e, Identity):
            return f"np.eye({self.dim(e.n)})", ATOM
        if isinstance(e, (Ones, Zero)):
            if e.is_scalar:
                return ("1.0" if isinstance(e, Ones) else "0.0"), ATOM
            fn = "np.ones" if isinstance(e, Ones) else "np.zeros"
            return f"{fn}({self.shape_code(e)})", ATOM
        if isinstance(e, Add):
            return self._add(e)
        if isinstance(e, Mul):
            return self._mul(e)
        if isinstance(e, Hadamard):
            return " * ".join(self.at(f, MUL + 1) for f in e.factors), MUL
        if isinstance(e, Transpose):
            if e.arg.shape[0] != 1 and e.arg.shape[1] != 1:
                return f"{self.at(e.arg, ATOM)}.T", ATOM
            return self.value(e.arg)
        if isinstance(e, _SquaredNorm):
            u = self.named(e.arg)
            return f"np.vdot({u}, {u})", ATOM
        if isinstance(e, _Vdot):
            return f"np.vdot({self.value(e.a)[0]}, {self.value(e.b)[0]})", ATOM
        if isinstance(e, Power):
            p = e.exponent
            if p == -1 and e.is_scalar:
                return f"1.0 / {self.at(e.base, ATOM)}", MUL
            if p == 0.5:
                return f"np.sqrt({self.value(e.base)[0]})", ATOM
            return f"{self.at(e.base, ATOM)} ** {_num(p)!r}", MUL
        if isinstance(e, Elementwise):
            if e.func == "sigmoid":
                self.helpers.add(_SIGMOID)
            return ELEMENTWISE[e.func][2].format(u=self.value(e.arg)[0]), ATOM
        if isinstance(e, Text):
            raise ValueError(f"{e.text!r} is display-only text, not code")
        calls = {Inverse: "np.linalg.inv({})", Trace: "np.trace({})", Det: "np.linalg.det({})",
                 LogDet: "np.linalg.slogdet({})[1]", Sum: "np.sum({})",
                 Norm: "np.linalg.norm({})", Diag: "np.diag({})"}
        return calls[type(e)].format(self.value(e.children()[0])[0]), ATOM

    def _add(self, e: Add) -> tuple[str, int]:
        out = ""
        for k, t in enumerate(e.terms):
            if isinstance(t, Ones):  # broadcasts against the other terms
                out += (" + " if k else "") + "1.0"
                continue
            coeff, scalars, chain = split_mul(t) if isinstance(t, (Mul, Number)) else (
                1, (), (t,))
            if k and coeff < 0:
                out += " - " + self.at(make_mul(-coeff, scalars, chain), MUL)
            else:
                out += (" + " if k else "") + self.at(t, MUL if k else ADD)
        return out, ADD

    def _mul(self, e: Mul) -> tuple[str, int]:
        coeff, scalars, chain = split_mul(e)
        parts = [self.at(s, MUL + 1) for s in scalars]
        if chain:
            code, prec = self._chain(chain)
            parts.append(code if (prec == ATOM or not parts and coeff == 1) else f"({code})")
        if coeff == -1 and parts:
            body = " * ".join(parts)
            return f"-{body}" if len(parts) == 1 and parts[0][-1:] in ")]" or (
                len(parts) == 1 and parts[0].isidentifier()) else f"-({body})", MUL
        if coeff != 1:
            parts.insert(0, repr(_num(coeff)))
        code = " * ".join(parts)
        return code, (ATOM if len(parts) == 1 and _wrap(code) == code else MUL)

    def _chain(self, chain: tuple[Expr, ...]) -> tuple[str, int]:
        """A matrix product in the cheapest form (see the module docstring)."""
        items: list[tuple[str, tuple]] = []
        lead = None  # h of a leading diag(h), waiting for the factor it scales
        for f in chain:
            if isinstance(f, Diag):
                h = self.at(f.arg, ATOM)
                if items:  # M diag(h) = M * h (columns scaled)
                    code, shape = items.pop()
                    items.append((f"{_wrap(code)} * {h}", shape))
                else:  # diag(g) diag(h) = diag(g ⊙ h)
                    lead = h if lead is None else f"{lead} * {h}"
                continue
            code = self.at(f, ATOM)
            if lead is not None:  # diag(h) M = h[:, None] * M (rows scaled)
                code = f"{_wrap(lead)}[:, None] * {_wrap(code)}" if f.shape[1] != 1 else \
                    f"{_wrap(lead)} * {_wrap(code)}"
                lead = None
            items.append((code, f.shape))
        if lead is not None:
            items.append((f"np.diag({lead})", chain[-1].shape))
        segments: list[list[tuple[str, tuple]]] = [[]]
        for code, shape in items:
            seg = segments[-1]
            if seg and seg[-1][1][1] == 1 and shape[0] == 1:
                segments.append([])  # column × row: an outer product
            segments[-1].append((code, shape))
        out_code, out_shape = None, None
        for seg in segments:
            code, shape = self._segment(seg)
            if out_code is None:
                out_code, out_shape = code, shape
            elif out_shape == (1, 1) or shape == (1, 1):
                out_code, out_shape = f"{_wrap(out_code)} * {_wrap(code)}", (out_shape[0],
                                                                              shape[1])
            else:
                out_code, out_shape = f"np.outer({out_code}, {code})", (out_shape[0], shape[1])
        return out_code, (ATOM if _wrap(out_code) == out_code else MUL)

    def _segment(self, seg: list[tuple[str, tuple]]) -> tuple[str, tuple]:
        shape = (seg[0][1][0], seg[-1][1][1])
        codes = [c for c, _ in seg]
        if len(codes) == 1:
            return codes[0], shape
        if seg[-1][1][1] == 1:  # ends in a vector: right to left, matrix-vector products
            code = codes[-1]
            for c in reversed(codes[:-1]):
                code = f"{c} @ {_wrap(code)}"
            return code, shape
        if seg[0][1][0] == 1 or len(codes) == 2:  # starts with a row vector: left to right
            return " @ ".join(codes), shape
        return f"np.linalg.multi_dot([{', '.join(codes)}])", shape


def _wrap(code: str) -> str:
    """``code`` as an operand: parenthesised unless it is a name, a call or in parentheses."""
    if code.isidentifier() or (code.endswith(")") and _balanced_call(code)) or \
            code.endswith(".T") and (code[:-2].isidentifier() or _wrap(code[:-2]) == code[:-2]):
        return code
    return f"({code})"


def _balanced_call(code: str) -> bool:
    """Whether ``code`` is one call f(...) or one parenthesised group (its first '(' closes
    at the end)."""
    start = code.find("(")
    if start < 0 or (start and not code[:start].replace(".", "").replace("_", "").isalnum()):
        return False
    depth = 0
    for k, ch in enumerate(code[start:], start):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return k == len(code) - 1
    return False


def _num(v: float):
    return int(v) if float(v).is_integer() else v


def _py(name: str) -> str:
    name = {"δ": "delta", "Δ": "Delta"}.get(name, name)
    return name if name.isidentifier() else "".join(c if c.isalnum() else "_" for c in name)


def _readable(e: Expr) -> Expr:
    """The code-generation nodes back as ordinary ones (for the comments)."""
    if isinstance(e, _SquaredNorm):
        return Power(Norm(_readable(e.arg)), 2)
    if isinstance(e, _Vdot):
        return Inner(_readable(e.a), _readable(e.b))
    kids = e.children()
    return e.rebuild(tuple(_readable(k) for k in kids)) if kids else e


def numpy_source(outputs: Expr | Mapping[str, Expr], args: Sequence[str] | None = None,
                 name: str = "f", like: Expr | None = None) -> str:
    """The source of a NumPy function computing ``outputs``.

    Args:
        outputs: one expression, or several by name (returned as a tuple in that order,
            sharing their common subexpressions).
        args: the argument names in order (default: the symbols of ``like``, or else of the
            outputs, in order of appearance).
        name: the function's name.
        like: the expression the outputs were derived from: its symbols give the arguments'
            shapes (so that the Hessian 2A of xᵀAx can still take x, and a zero gradient
            knows its size).

    Returns:
        Python source defining ``name`` (and any helper it uses); ``np`` is NumPy.
    """
    exprs = dict(outputs) if isinstance(outputs, Mapping) else {"value": outputs}
    exprs = {k: simplify(e) for k, e in exprs.items()}  # one form per value, for sharing
    symbols: dict[str, Symbol] = dict(like.symbols()) if like is not None else {}
    for e in exprs.values():
        symbols.update({n: s for n, s in e.symbols().items() if n not in symbols})
    if args is None:
        args = list(symbols)
    missing = [n for e in exprs.values() for n in e.symbols() if n not in args]
    if missing:
        raise ValueError(f"args={list(args)!r} leaves out {', '.join(missing)}, which the "
                         "expression uses")
    unknown = [n for n in args if n not in symbols]
    if unknown:
        raise ValueError(f"args: {', '.join(unknown)} is not a symbol of the expression (pass "
                         "like=the original expression to take its other variables)")
    arg_symbols = [symbols[n] for n in args]
    canon_memo: dict = {}
    roots = [_canonical(e, canon_memo) for e in exprs.values()]
    chains = _all_chains(roots)
    group_memo: dict = {}
    roots = [_regroup(r, chains, group_memo) for r in roots]
    w = _Writer(arg_symbols, roots)
    results = [w.value(r)[0] for r in roots]
    doc = "; ".join(f"{k}: {text(e)}" if len(exprs) > 1 else text(e) for k, e in exprs.items())
    body = [f'    """{doc}"""'] + [f"    {line}" for line in w.lines]
    body.append(f"    return {', '.join(results)}")
    head = f"def {name}({', '.join(_py(a) for a in args)}):"
    return "".join(sorted(w.helpers)) + ("\n\n" if w.helpers else "") + "\n".join(
        [head] + body) + "\n"


_COUNTER = itertools.count()


def lambdify(outputs: Expr | Mapping[str, Expr], args: Sequence[str] | None = None,
             name: str = "f", like: Expr | None = None) -> Callable:
    """A NumPy function computing ``outputs`` (see :func:`numpy_source`).

    Args:
        outputs: one expression, or several by name (the function returns a tuple).
        args: the argument names in order (default: the symbols of ``like``, or else of the
            outputs, in order of appearance).
        name: the function's name.
        like: the expression the outputs were derived from (its variables become arguments).

    Returns:
        The function; its source is ``.source`` (vectors are passed as 1-D arrays).

    Example:
        >>> import numpy as np
        >>> from chainrule.symbolic.matrix import parse, hessian
        >>> f = parse("x' * A * x")
        >>> H = lambdify(hessian(f, "x"), like=f, name="hess_f")
        >>> H(np.zeros(2), np.array([[1.0, 2.0], [0.0, 1.0]])).tolist()
        [[2.0, 2.0], [2.0, 2.0]]
    """
    source = numpy_source(outputs, args, name, like)
    filename = f"<chainrule.symbolic.matrix {name} #{next(_COUNTER)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {"np": onp}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated code
    fn = namespace[name]
    fn.source = source
    return fn
