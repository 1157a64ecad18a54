"""How each primitive is written in generated source: one table, keyed by the primitive.

Code generation has two dialects (:mod:`chainrule.ir.codegen` for Python/NumPy,
:mod:`chainrule.ir.numba_codegen` for Numba) and three places a primitive can be
written, each a ``str.format`` template over the arguments' expressions (``{0}``,
``{1}``, …) in a :class:`Template`:

* ``scalar``: on Python floats (and Numba's scalars), with :mod:`math` (5× faster
  than NumPy on a float): ``math.sin({0})``;
* ``array``: on NumPy arrays, ``np.sin({0})``;
* ``element``: on one element inside a compiled loop (Numba), where ``math`` has no
  spelling NumPy's scalar ufuncs do (``np.maximum({0}, {1})``).

A full reduction names the operator that accumulates it (``reduce="+"`` for ``sum``),
so a compiled loop can keep it in a running total.

``None`` means "no spelling here": the generated code calls the primitive's own
implementation (Python), or refuses / leaves the equation to NumPy (Numba). A
template may instead be a function ``(arguments, equation) -> expression`` where the
spelling depends on the operands (``pow`` on floats: ``math.pow`` unless the exponent
is a whole literal).

The table is built once, from the registered primitives, by :func:`template`; its keys
are the :class:`~chainrule.core.primitive.Primitive` objects themselves (the one place
that still finds a primitive by its name is :func:`_build`, until the template becomes
a field of the primitive's own entry).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Union

from chainrule.core.primitive import PRIMITIVES
from chainrule.ir.program import Lit

__all__ = ["Template", "template", "render", "BUILTINS"]

#: the names templates use besides ``math`` and ``np``: a generated function must not
#: take them (a function named ``abs`` would call itself)
BUILTINS = frozenset({"abs"})

Spelling = Union[str, Callable[[list, Any], str], None]


class Template(NamedTuple):
    """One primitive's spellings (see the module docstring); ``element`` defaults to
    ``scalar`` when not given."""

    scalar: Spelling
    array: Spelling
    element: Spelling = None
    #: for a reduction over every axis: the operator accumulating it in a loop (``+``)
    reduce: str | None = None
    #: NumPy's own loop for it is vectorised (AVX2/AVX-512) and beats one ``math`` call
    #: per element in a compiled loop (``exp`` 2.2 against 10.5 ns per float64, ``tanh``
    #: 5.7 against 28): fused loops leave it to NumPy
    numpy_simd: bool = False

    def in_loop(self) -> Spelling:
        """The spelling of one element inside a compiled loop."""
        return self.element if self.element is not None else self.scalar


def render(spelling: Spelling, ins: list, eqn: Any) -> str:
    """The expression ``spelling`` gives for argument expressions ``ins`` of ``eqn``.

    >>> render("{0} + {1}", ["a", "b"], None)
    'a + b'
    """
    if callable(spelling):
        return spelling(ins, eqn)
    return spelling.format(*ins)


def _pow_element(ins: list, eqn: Any) -> str:
    """``x*x`` and ``x*x*x`` for the literal exponents 2 and 3 (one multiply each, no
    ``pow`` call), ``**`` otherwise."""
    b = eqn.invars[1]
    if isinstance(b, Lit) and type(b.value) in (int, float) and b.value in (2, 3):
        return " * ".join([ins[0]] * int(b.value))
    return f"{ins[0]} ** {ins[1]}"


def _pow_scalar(ins: list, eqn: Any) -> str:
    """``math.pow`` on floats (it raises on a negative base where ``**`` would return a
    complex number), ``**`` for a whole-number literal exponent (exact, and fast)."""
    b = eqn.invars[1]
    whole = isinstance(b, Lit) and type(b.value) in (int, float) and float(b.value).is_integer()
    return f"{ins[0]} ** {ins[1]}" if whole else f"math.pow({ins[0]}, {ins[1]})"


#: the infix operators: the same text on floats, arrays and elements
_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/",
          "greater": ">", "greater_equal": ">=", "less": "<", "less_equal": "<=",
          "equal": "==", "not_equal": "!="}
#: elementwise functions: primitive -> (math's name, NumPy's name)
_FUNCTIONS = {
    "exp": ("exp", "exp"), "log": ("log", "log"), "sin": ("sin", "sin"),
    "cos": ("cos", "cos"), "tan": ("tan", "tan"), "tanh": ("tanh", "tanh"),
    "sinh": ("sinh", "sinh"), "cosh": ("cosh", "cosh"), "arctan": ("atan", "arctan"),
    "log1p": ("log1p", "log1p"), "expm1": ("expm1", "expm1"), "sqrt": ("sqrt", "sqrt"),
    "arcsin": ("asin", "arcsin"), "arccos": ("acos", "arccos"),
}
#: elementwise functions whose NumPy loop is no faster than ``math``'s per element (sin,
#: cos: 24 against 21 ns) or slower (sqrt, an instruction: 2.0 against 1.0 ns); measured
#: on an AVX-512 x86-64 with NumPy 2.4 and Numba 0.68 (10⁴ float64 in cache)
_LIBM_AS_FAST = ("sin", "cos", "sqrt")
#: NumPy's scalar ufuncs (NaN-propagating) inside compiled loops; their implementation
#: elsewhere
_UFUNC_ELEMENTS = ("maximum", "minimum", "sign", "logaddexp", "logaddexp2")


def _build() -> dict:
    """``{primitive: Template}`` for every registered primitive that has a spelling."""
    spell: dict[str, Template] = {}
    for name, op in _INFIX.items():
        spell[name] = Template(f"{{0}} {op} {{1}}", f"{{0}} {op} {{1}}")
    for name, (m, n) in _FUNCTIONS.items():
        spell[name] = Template(f"math.{m}({{0}})", f"np.{n}({{0}})",
                               numpy_simd=name not in _LIBM_AS_FAST)
    for name in _UFUNC_ELEMENTS:
        args = "{0}" if name == "sign" else "{0}, {1}"
        spell[name] = Template(None, None, f"np.{name}({args})")
    spell.update({
        "neg": Template("-{0}", "-{0}"),
        "square": Template("{0} * {0}", "{0} * {0}"),
        "abs": Template("abs({0})", "abs({0})"),
        "pow": Template(_pow_scalar, "{0} ** {1}", _pow_element),
        "matmul": Template(None, "{0} @ {1}"),  # not elementwise: no loop spelling
        "where": Template(None, None, "({1} if {0} else {2})"),
        "sum": Template(None, None, None, reduce="+"),
        # a rule's c·∂f: ∂f where it is a number or c is finite and non-zero, else 0
        "zero_safe": Template(
            "{1} if {1} == {1} or {0} and {0} - {0} == 0 else 0.0", None,
            "({1} if {1} == {1} or ({0} != 0 and {0} - {0} == 0) else 0.0)"),
    })
    return {PRIMITIVES[name]: t for name, t in spell.items() if name in PRIMITIVES}


_TABLE: dict = {}
_BUILT_FOR = [-1]  # how many primitives were registered when _TABLE was built


def template(prim: Any) -> Template | None:
    """The :class:`Template` of ``prim`` (None: it has no spelling; call its ``impl``).

    The table is built at the first call (the primitives register themselves when
    :mod:`chainrule.numpy` is imported), and again if a primitive registered later is
    asked for.
    """
    t = _TABLE.get(prim)
    if t is None and _BUILT_FOR[0] != len(PRIMITIVES):
        _TABLE.clear()
        _TABLE.update(_build())
        _BUILT_FOR[0] = len(PRIMITIVES)
        t = _TABLE.get(prim)
    return t
