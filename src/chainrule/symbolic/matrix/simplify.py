"""Simplification to the form a person writes: −2Aᵀ(y − Ax), (A + Aᵀ)x, X⁻ᵀ.

The rules, applied bottom-up until nothing changes:

* products: nested products flattened, numbers multiplied into one coefficient, scalar
  factors gathered in front (equal bases merged into powers), identities dropped, X⁻¹X
  cancelled, a common numeric factor of a sum pulled out of it;
* sums: like terms combined (2Ax + 3Ax = 5Ax), zeros dropped, a common right factor that
  is a symbol or vector factored out (Ax + Aᵀx = (A + Aᵀ)x);
* transposes: (Aᵀ)ᵀ = A, Sᵀ = S for a symmetric S (declared, or of the form BᵀB), a
  transpose of a scalar dropped, a transpose of a product or sum distributed only where
  that removes transposes ((xᵀA)ᵀ = Aᵀx, but (W₁X)ᵀ stays as written), (X⁻¹)ᵀ kept as X⁻ᵀ;
* ⟨A, B⟩ written as AᵀB for vectors and tr(AᵀB) for matrices (``lower_inner``);
* tr, sum, ‖·‖ and powers of numbers evaluated where they are numbers.

Sums are not expanded: (A + Aᵀ)x and −2Aᵀ(y − Ax) keep their parentheses.

Example:
    >>> from chainrule.symbolic.matrix.expr import matrix, vector
    >>> from chainrule.symbolic.matrix.printing import text
    >>> A, x = matrix("A", "n"), vector("x", "n")
    >>> text(simplify(A * x + A.T * x + A * x))
    '(2A + Aᵀ)x'
"""

from __future__ import annotations

from functools import lru_cache

from chainrule.symbolic.matrix.expr import (
    Add, Det, Diag, Elementwise, Expr, Hadamard, Identity, Inner, Inverse, LogDet, Mul, Norm,
    Number, Ones, Power, Sum, Symbol, Text, Trace, Transpose, Zero,
)

__all__ = ["simplify", "is_symmetric", "split_mul", "make_mul", "transpose_count"]


def simplify(e: Expr, lower_inner: bool = True) -> Expr:
    """The simplified expression (see the module docstring for the rules).

    Args:
        e: the expression.
        lower_inner: write ⟨A, B⟩ as AᵀB / tr(AᵀB) (default); False keeps the brackets, as
            derivation steps show them.

    Returns:
        An equal expression in the form a person writes.
    """
    for _ in range(20):
        s = _simp(e, lower_inner)
        if s == e:
            return s
        e = s
    return e


def split_mul(e: Expr) -> tuple[float, tuple[Expr, ...], tuple[Expr, ...]]:
    """(coefficient, scalar factors, matrix chain) of a product; other nodes are a chain of one."""
    if isinstance(e, Number):
        return e.value, (), ()
    if not isinstance(e, Mul):
        return (1, (e,), ()) if e.is_scalar else (1, (), (e,))
    coeff, scalars, chain = 1, [], []
    for f in e.factors:
        if isinstance(f, Number):
            coeff *= f.value
        elif f.is_scalar:
            scalars.append(f)
        else:
            chain.append(f)
    return coeff, tuple(scalars), tuple(chain)


def make_mul(coeff: float, scalars: tuple[Expr, ...], chain: tuple[Expr, ...]) -> Expr:
    """A product from its parts, without further simplification."""
    factors = ((Number(_num(coeff)),) if coeff != 1 else ()) + tuple(scalars) + tuple(chain)
    if not factors:
        return Number(1)
    if len(factors) == 1:
        return factors[0]
    return Mul(factors)


def _num(v: float) -> float:
    return int(v) if float(v).is_integer() else v


def transpose_count(e: Expr) -> int:
    """How many transposes an expression writes (the simplifier's measure of clutter)."""
    return sum(1 for n in e.walk()
               if isinstance(n, Transpose) and not isinstance(n.arg, Inverse))


def is_symmetric(e: Expr) -> bool:
    """Whether ``e`` is known to equal its transpose."""
    if e.is_scalar or isinstance(e, (Identity, Diag)):
        return True
    if isinstance(e, Symbol):
        return e.symmetric
    if isinstance(e, Ones):
        return e.rows == e.cols
    if isinstance(e, (Inverse, Elementwise, Power)):
        return is_symmetric(e.children()[0])
    if isinstance(e, (Add, Hadamard)):
        return all(is_symmetric(t) for t in e.children())
    if isinstance(e, Mul):
        _, _, chain = split_mul(e)
        if len(chain) == 1:
            return is_symmetric(chain[0])
        flipped = tuple(_simp(Transpose(f), True) for f in reversed(chain))
        return flipped == chain  # BᵀB, BᵀSB, x xᵀ
    return False


@lru_cache(maxsize=100_000)
def _simp(e: Expr, lower: bool) -> Expr:
    kids = e.children()
    if kids:
        e = e.rebuild(tuple(_simp(k, lower) for k in kids))
    rule = _RULES.get(type(e))
    return rule(e, lower) if rule else e


def _zero_like(e: Expr) -> Expr:
    return Number(0) if e.is_scalar else Zero(*e.shape)


def _is_zero(e: Expr) -> bool:
    return isinstance(e, Zero) or (isinstance(e, Number) and e.value == 0)


def _mul(e: Mul, lower: bool) -> Expr:
    coeff, scalars, chain = 1, [], []
    stack = list(reversed(e.factors))
    while stack:
        f = stack.pop()
        if _is_zero(f):
            return _zero_like(e)
        if isinstance(f, Mul) and (not f.is_scalar or all(g.is_scalar for g in f.factors)):
            stack.extend(reversed(f.factors))  # a scalar xᵀAy stays one scalar factor
        elif isinstance(f, Number):
            coeff *= f.value
        elif f.is_scalar:
            scalars.append(f)
        elif isinstance(f, Add) and _common_coefficient(f) not in (None, 1):
            c = _common_coefficient(f)
            coeff *= c
            chain.append(_simp(Add(tuple(_scale(t, 1 / c) for t in f.terms)), lower))
        else:
            chain.append(f)
    if coeff == 0:
        return _zero_like(e)
    chain = _cancel(chain)
    if not chain and not e.is_scalar:  # everything cancelled to the identity
        chain = [Identity(e.shape[0])]
    scalars = _merge_powers(scalars, lower)
    for k, s in enumerate(scalars):  # a number hiding in a power
        if isinstance(s, Number):
            coeff *= s.value
            scalars[k] = None
    out = make_mul(coeff, tuple(s for s in scalars if s is not None), tuple(chain))
    return out


def _cancel(chain: list[Expr]) -> list[Expr]:
    out: list[Expr] = []
    for f in chain:
        if isinstance(f, Identity) and (out or len(chain) > 1):
            continue
        if out and ((isinstance(f, Inverse) and f.arg == out[-1])
                    or (isinstance(out[-1], Inverse) and out[-1].arg == f)):
            out.pop()
            continue
        out.append(f)
    if not out and chain:
        return []
    return out


def _merge_powers(scalars: list[Expr], lower: bool) -> list[Expr]:
    bases: dict[Expr, float] = {}
    for s in scalars:
        base, p = (s.base, s.exponent) if isinstance(s, Power) else (s, 1)
        bases[base] = bases.get(base, 0) + p
    out = []
    for base, p in bases.items():
        if p != 0:
            out.append(_simp(Power(base, _num(p)), lower) if p != 1 else base)
    return out


def _common_coefficient(a: Add) -> float | None:
    coeffs = {split_mul(t)[0] if isinstance(t, Mul) else 1 for t in a.terms}
    return coeffs.pop() if len(coeffs) == 1 else None


def _scale(t: Expr, c: float) -> Expr:
    coeff, scalars, chain = split_mul(t) if isinstance(t, (Mul, Number)) else (1, (), (t,))
    return make_mul(coeff * c, scalars, chain)


def _term_parts(t: Expr) -> tuple[float, Expr]:
    """(coefficient, the term without it)."""
    if isinstance(t, Number):
        return t.value, Number(1)
    if isinstance(t, Mul):
        coeff, scalars, chain = split_mul(t)
        return coeff, make_mul(1, scalars, chain)
    return 1, t


def _add(e: Add, lower: bool) -> Expr:
    terms: dict[Expr, float] = {}
    stack = list(reversed(e.terms))
    while stack:
        t = stack.pop()
        if isinstance(t, Add):
            stack.extend(reversed(t.terms))
            continue
        if _factored(t):  # (A + Aᵀ)x joins the other terms in x, to be factored again
            coeff, scalars, (total, f) = split_mul(t)
            stack.extend(reversed([_simp(Mul((Number(coeff), *scalars, p, f)), lower)
                                   for p in total.terms]))
            continue
        if _is_zero(t):
            continue
        c, rest = _term_parts(t)
        terms[rest] = terms.get(rest, 0) + c
    parts = [(c, rest) for rest, c in terms.items() if c != 0]
    if not parts:
        return _zero_like(e)
    if len(parts) == 1:
        return _simp(make_mul(parts[0][0], (), (parts[0][1],)), lower)
    if parts[0][0] < 0:  # 2Ax/(xᵀx) − 2(xᵀAx)x/(xᵀx)², not the other way round
        first_positive = next((k for k, (c, _) in enumerate(parts) if c > 0), None)
        if first_positive is not None:
            parts.insert(0, parts.pop(first_positive))
    factored = _factor_right(parts, lower)
    if factored is None:
        factored = _factor_left(parts, lower)
    if factored is not None:
        return factored
    return Add(tuple(_simp(make_mul(c, (), (rest,)), lower) for c, rest in parts))


def _factor_left(parts: list[tuple[float, Expr]], lower: bool) -> Expr | None:
    """X P + X Q = X(P + Q) when every term is a product without scalar factors that starts
    with the same symbol X (or Xᵀ): the cookbook's X(bcᵀ + cbᵀ)."""
    first = None
    rests = []
    for c, rest in parts:
        if not isinstance(rest, Mul):
            return None
        _, scalars, chain = split_mul(rest)
        if scalars or len(chain) < 2 or not _plain(chain[0]) or chain[0].is_row:
            return None
        if first is None:
            first = chain[0]
        if chain[0] != first:
            return None
        rests.append(make_mul(c, (), chain[1:]))
    return _simp(Mul((first, Add(tuple(rests)))), lower)


def _factor_right(parts: list[tuple[float, Expr]], lower: bool) -> Expr | None:
    """Aᵢ f + Bⱼ f = (Aᵢ + Bⱼ) f for terms that are one symbol (or its transpose) times the same
    symbol or vector f; other terms stay as they are."""
    groups: dict[tuple, list[int]] = {}
    for k, (_, rest) in enumerate(parts):
        if isinstance(rest, Mul):
            _, scalars, chain = split_mul(rest)
            if len(chain) == 2 and _plain(chain[0]) and (isinstance(chain[1], Symbol)
                                                         or chain[1].is_column):
                groups.setdefault((scalars, chain[1]), []).append(k)
    groups = {key: ks for key, ks in groups.items() if len(ks) > 1}
    if not groups:
        return None
    terms: list[Expr] = []
    for k, (c, rest) in enumerate(parts):
        for (scalars, f), ks in groups.items():
            if k == ks[0]:
                inner = Add(tuple(make_mul(parts[j][0], (), (split_mul(parts[j][1])[2][0],))
                                  for j in ks))
                terms.append(_simp(Mul((*scalars, _simp(inner, lower), f)), lower))
        if not any(k in ks for ks in groups.values()):
            terms.append(_simp(make_mul(c, (), (rest,)), lower))
    return Add(tuple(terms)) if len(terms) > 1 else terms[0]


def _factored(t: Expr) -> bool:
    """Whether t is a product s (Σ cᵢ Sᵢ) f as :func:`_factor_right` writes it."""
    if not isinstance(t, Mul):
        return False
    _, _, chain = split_mul(t)
    if len(chain) != 2 or not isinstance(chain[0], Add):
        return False
    f = chain[1]
    return (isinstance(f, Symbol) or f.is_column) and all(
        _plain(make_mul(1, *split_mul(p)[1:])) for p in chain[0].terms)


def _plain(e: Expr) -> bool:
    return isinstance(e, Symbol) or (isinstance(e, Transpose) and isinstance(e.arg, Symbol))


def _transpose(e: Transpose, lower: bool) -> Expr:
    a = e.arg
    if a.is_scalar:
        return a
    if isinstance(a, Transpose):
        return a.arg
    if isinstance(a, (Identity, Diag)) or is_symmetric(a):
        return a
    if isinstance(a, (Ones, Zero)):
        return type(a)(a.cols, a.rows)
    if isinstance(a, Inverse):
        return e  # X⁻ᵀ
    candidate = None
    if isinstance(a, Mul):
        coeff, scalars, chain = split_mul(a)
        flipped = tuple(_simp(Transpose(f), lower) for f in reversed(chain))
        if coeff != 1 or scalars:
            inner = make_mul(1, (), chain)
            return make_mul(coeff, scalars, (_transpose(Transpose(inner), lower),))
        candidate = _simp(Mul(flipped), lower)
    elif isinstance(a, (Add, Hadamard)):
        candidate = _simp(a.rebuild(tuple(Transpose(t) for t in a.children())), lower)
    elif isinstance(a, (Elementwise, Power)):
        candidate = _simp(a.rebuild((Transpose(a.children()[0]),)), lower)
    if candidate is not None and (transpose_count(candidate) < transpose_count(e) or (
            a.is_row and isinstance(a, (Add, Hadamard, Elementwise, Power)))):
        return candidate  # entrywise operations on columns, not rows
    return e


def _inverse(e: Inverse, lower: bool) -> Expr:
    a = e.arg
    if isinstance(a, Inverse):
        return a.arg
    if isinstance(a, Identity):
        return a
    if a.is_scalar:
        return _simp(Power(a, -1), lower)
    if isinstance(a, Transpose):
        return _simp(Transpose(Inverse(a.arg)), lower)
    return e


def _power(e: Power, lower: bool) -> Expr:
    b, p = e.base, e.exponent
    if p == 1:
        return b
    if p == 0:
        return Number(1) if b.is_scalar else Ones(*b.shape)
    if isinstance(b, Number):
        return Number(_num(b.value ** p))
    if isinstance(b, Power) and (isinstance(b.base, Norm) or float(b.exponent).is_integer()
                                 and float(p).is_integer()):
        return _simp(Power(b.base, _num(b.exponent * p)), lower)
    if isinstance(b, Mul) and b.is_scalar:
        coeff, scalars, chain = split_mul(b)
        if coeff != 1 and not chain and (coeff > 0 or float(p).is_integer()):
            return _simp(Mul((Number(coeff ** p),
                              Power(make_mul(1, scalars, ()), p))), lower)
    return e


def _hadamard(e: Hadamard, lower: bool) -> Expr:
    factors, scalars = [], []
    for f in e.factors:
        if _is_zero(f):
            return _zero_like(e)
        if isinstance(f, Hadamard):
            factors.extend(f.factors)
        elif isinstance(f, Ones):
            continue
        elif isinstance(f, Mul) and any(g.is_scalar for g in f.factors) and not f.is_scalar:
            coeff, sc, chain = split_mul(f)
            scalars.extend(((Number(coeff),) if coeff != 1 else ()) + sc)
            factors.append(make_mul(1, (), chain))
        else:
            factors.append(f)
    if e.is_scalar:
        return _simp(Mul(tuple(factors + scalars)), lower)
    factors = _merge_entrywise_powers(factors, lower)
    if not factors:
        core = Ones(*e.shape)
    elif len(factors) == 1:
        core = factors[0]
    else:
        core = Hadamard(tuple(factors))
    return _simp(Mul(tuple(scalars) + (core,)), lower) if scalars else core


def _merge_entrywise_powers(factors: list[Expr], lower: bool) -> list[Expr]:
    """u ⊙ u = u^∘2, and the factors in one canonical order (⊙ commutes), so that equal
    Hadamard products are recognised as like terms."""
    bases: dict[Expr, float] = {}
    for f in factors:
        base, p = (f.base, f.exponent) if isinstance(f, Power) else (f, 1)
        bases[base] = bases.get(base, 0) + p
    out = [_simp(Power(b, _num(p)), lower) if p != 1 else b
           for b, p in bases.items() if p != 0]
    return sorted(out, key=_canonical_key)


_FACTOR_ORDER = {Symbol: 0, Elementwise: 1, Power: 2, Mul: 3, Add: 4}


def _canonical_key(e: Expr) -> tuple:
    """Symbols, then functions, powers, products, sums: a fixed order for commuting factors."""
    return (_FACTOR_ORDER.get(type(e), 5), repr(e))


def _pull_scalars(e: Expr, lower: bool) -> Expr:
    """tr(c·M) = c·tr M and sum(c·M) = c·sum M; a scalar's trace or sum is itself."""
    a = e.children()[0]
    if a.is_scalar and isinstance(e, (Trace, Sum)):
        return a
    if isinstance(e, Trace) and isinstance(a, Transpose):
        return _simp(Trace(a.arg), lower)
    if isinstance(a, Mul):
        coeff, scalars, chain = split_mul(a)
        if coeff != 1 or scalars:
            return _simp(Mul(((Number(coeff),) + scalars
                              + (e.rebuild((make_mul(1, (), chain),)),))), lower)
    return e


def _inner(e: Inner, lower: bool) -> Expr:
    a, b = e.a, e.b
    if not lower:  # ⟨a, −2b⟩ = −2⟨a, b⟩, as the lecture writes it
        ca, sa, cha = split_mul(a) if isinstance(a, Mul) else (1, (), (a,))
        cb, sb, chb = split_mul(b) if isinstance(b, Mul) else (1, (), (b,))
        if (ca != 1 or cb != 1) and cha and chb:
            return _simp(Mul((Number(ca * cb), *sa, *sb,
                              Inner(make_mul(1, (), cha), make_mul(1, (), chb)))), lower)
        return e
    if a.is_scalar:
        return _simp(Mul((a, b)), lower)
    if a.is_column:
        return _simp(Mul((Transpose(a), b)), lower)
    if a.is_row:
        return _simp(Mul((a, Transpose(b))), lower)
    return _simp(Trace(Mul((Transpose(a), b))), lower)


def _norm(e: Norm, lower: bool) -> Expr:
    if isinstance(e.arg, Number):
        return Number(abs(e.arg.value))
    if isinstance(e.arg, Zero):
        return Number(0)
    coeff, scalars, chain = split_mul(e.arg) if isinstance(e.arg, Mul) else (1, (), ())
    if coeff < 0 and not scalars:  # ‖−v‖ = ‖v‖
        return _simp(Norm(make_mul(-coeff, (), chain)), lower)
    return e


_RULES = {
    Mul: _mul, Add: _add, Transpose: _transpose, Inverse: _inverse, Power: _power,
    Hadamard: _hadamard, Trace: _pull_scalars, Sum: _pull_scalars, Inner: _inner, Norm: _norm,
    Det: lambda e, lower: e, LogDet: lambda e, lower: e, Text: lambda e, lower: e,
}
