"""Generated code as a standalone module: the text :func:`chainrule.source` prints.

The compiled function of :mod:`chainrule.ir.codegen` reads its constants (arrays,
dtypes, parameters, the primitives' implementations) from the namespace it was
compiled in. Here each one becomes a line of Python above the function, so the text
runs as printed: ``exec(text, {})`` defines a function that gives the same numbers.

* numbers, strings, tuples, lists, dicts and slices are written as literals
  (``math.inf``/``math.nan`` for the non-finite floats);
* arrays as ``np.array([...], dtype=...)`` with every element written exactly
  (``repr`` of a float round-trips);
* classes and functions that can be imported by name as imports; a primitive's
  implementation made inside a factory as ``PRIMITIVES["name"].impl`` after importing
  the module that registers it;
* any other object whose ``repr`` evaluates back to an equal object as that ``repr``.

A constant none of these can write (a function defined inside another function, say a
``custom_vjp`` rule) raises :class:`ValueError` naming it.

The compiled function also has a fallback (when ``math`` raises where NumPy returns
inf/nan it reruns the program with NumPy); the printed function has not: at such points
it raises ``ValueError``/``ZeroDivisionError`` where the compiled one returns inf/nan.
"""

from __future__ import annotations

import importlib
import math
import re
import textwrap
from typing import Any

import numpy as np

__all__ = ["standalone_source", "literal"]

_FALLBACK_TRY = "    try:"


def standalone_source(src: str, namespace: dict, registry: dict | None = None) -> str:
    """``src`` (one generated function) preceded by the definitions of its free names.

    Args:
        src: the generated source (``def name(...):`` with its ``try``/fallback frame).
        namespace: the namespace it was compiled in.
        registry: primitive name -> primitive (anything with ``impl``), to write an
            implementation made inside a factory as ``PRIMITIVES["name"].impl``.

    Returns:
        Module text: imports, one assignment per constant, then the function.

    Raises:
        ValueError: a constant cannot be written as Python source.

    Example:
        >>> import numpy as np
        >>> print(standalone_source("def f(x):\\n    return x * _c0\\n",
        ...                         {"_c0": np.array([1.5, np.inf])}))
        import math
        import numpy as np
        <BLANKLINE>
        _c0 = np.array([1.5, math.inf], dtype='<f8')
        <BLANKLINE>
        <BLANKLINE>
        def f(x):
            return x * _c0
        <BLANKLINE>
    """
    body = _without_fallback(src)
    imports: dict[str, None] = {"import math": None, "import numpy as np": None}
    assignments = []
    defined = re.match(r"def (\w+)\(", body)
    for name in dict.fromkeys(re.findall(r"\b_[A-Za-z_]\w*", body)):
        if name not in namespace or (defined and name == defined.group(1)):
            continue
        expr, needs = literal(namespace[name], name, registry)
        imports.update(dict.fromkeys(needs))
        assignments.append(f"{name} = {expr}")
    head = "\n".join(imports) + "\n"
    if assignments:
        head += "\n" + "\n".join(assignments) + "\n"
    return head + "\n\n" + body


def _without_fallback(src: str) -> str:
    """The function without the ``try: ... except: return _fallback(...)`` frame."""
    lines = src.rstrip("\n").split("\n")
    if len(lines) >= 4 and lines[1] == _FALLBACK_TRY and "_fallback(" in lines[-1]:
        inner = [ln[4:] if ln.startswith("        ") else ln for ln in lines[2:-2]]
        lines = [lines[0]] + inner
    return "\n".join(lines) + "\n"


def literal(value: Any, name: str = "constant", registry: dict | None = None
            ) -> tuple[str, list[str]]:
    """A Python expression for ``value`` and the import lines it needs.

    Args:
        value: the constant.
        name: its name, for the error message.
        registry: as in :func:`standalone_source`.

    Returns:
        ``(expression, imports)``.

    Raises:
        ValueError: when ``value`` cannot be written as Python source.

    Example:
        >>> literal((1.0, float("-inf"), slice(None, 2)))
        ('(1.0, -math.inf, slice(None, 2, None))', [])
        >>> literal(np.float32(0.5))
        ('np.float32(0.5)', [])
    """
    needs: list[str] = []
    expr = _expr(value, needs, name, registry or {})
    return expr, needs


def _float(v: float) -> str:
    if math.isfinite(v):
        return repr(v)
    if math.isnan(v):
        return "math.nan"
    return "math.inf" if v > 0 else "-math.inf"


def _array_expr(v: np.ndarray, needs: list, name: str, reg: dict) -> str:
    """A NumPy array of numbers written out as ``np.array([...], dtype=...)``."""
    # a transposed (Fortran-ordered) constant stays one: BLAS sums in an order that
    # depends on the layout, so a copy in C order could differ in the last bit
    fortran = v.ndim > 1 and v.flags.f_contiguous and not v.flags.c_contiguous
    c_order = v.T if fortran else v
    items = ", ".join(_expr(x, needs, name, reg) for x in c_order.ravel().tolist())
    text = f"np.array([{items}], dtype={v.dtype.str!r})"
    if len(text) > 88:
        text = "\n    ".join(textwrap.wrap(text, 92, break_long_words=False,
                                           break_on_hyphens=False))
    if c_order.ndim != 1:
        text += f".reshape({c_order.shape!r})"
    return text + (".T" if fortran else "")


def _container_expr(v: tuple | list | dict | slice, needs: list, name: str, reg: dict) -> str:
    """A tuple, list, dict or slice written out with its items."""
    t = type(v)
    if t is tuple:
        parts = [_expr(x, needs, name, reg) for x in v]
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    if t is list:
        return "[" + ", ".join(_expr(x, needs, name, reg) for x in v) + "]"
    if t is dict:
        return "{" + ", ".join(f"{_expr(k, needs, name, reg)}: {_expr(x, needs, name, reg)}"
                               for k, x in v.items()) + "}"
    return (f"slice({_expr(v.start, needs, name, reg)}, {_expr(v.stop, needs, name, reg)}, "
            f"{_expr(v.step, needs, name, reg)})")


def _expr(v: Any, needs: list, name: str, reg: dict) -> str:
    t = type(v)
    if v is None or t in (bool, int, str, bytes):
        return repr(v)
    if v is Ellipsis:
        return "..."
    if t is float:
        return _float(v)
    if t is complex:
        return f"complex({_float(v.real)}, {_float(v.imag)})"
    if isinstance(v, np.generic):
        return f"np.{type(v).__name__}({_expr(v.item(), needs, name, reg)})"
    if isinstance(v, np.dtype):
        return f"np.dtype({v.str!r})"
    if t is np.ndarray and v.dtype.kind in "biufc":
        return _array_expr(v, needs, name, reg)
    if t in (tuple, list, dict, slice):
        return _container_expr(v, needs, name, reg)
    ref = _import_reference(v, needs)
    if ref is not None:
        return ref
    ref = _registered_impl(v, needs, reg)
    if ref is not None:
        return ref
    ref = _evaluable_repr(v, needs)
    if ref is not None:
        return ref
    raise ValueError(
        f"source: the constant {name} ({type(v).__name__}: {repr(v)[:60]}) cannot be written "
        "as Python source (e.g. a function defined inside another function); "
        "jit(f).lower(*args).source shows the generated code and jit(f) runs it")


def _resolve(module: str, qualname: str) -> Any:
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _import_reference(v: Any, needs: list) -> str | None:
    """``np.add``, ``OrderedDict``... for a class or function importable by its name."""
    if not (isinstance(v, type) or callable(v)):
        return None
    module = getattr(v, "__module__", None)
    qualname = getattr(v, "__qualname__", None) or getattr(v, "__name__", None)
    if not module or not qualname or "<" in qualname:
        return None
    try:
        if _resolve(module, qualname) is not v:
            return None
    except Exception:  # noqa: BLE001 - not importable under that name
        return None
    if module == "numpy" and getattr(np, qualname.split(".")[0], None) is not None:
        return f"np.{qualname}"
    top, _, rest = qualname.partition(".")
    needs.append(f"from {module} import {top}")
    return qualname if rest else top


def _registered_impl(v: Any, needs: list, registry: dict) -> str | None:
    """``PRIMITIVES["sin"].impl`` for a registered primitive's implementation."""
    for prim_name, prim in registry.items():
        if getattr(prim, "impl", None) is v:
            module = getattr(v, "__module__", None)
            if module:
                needs.append(f"import {module}")
            needs.append("from chainrule.core.primitive import PRIMITIVES")
            return f"PRIMITIVES[{prim_name!r}].impl"
    return None


def _evaluable_repr(v: Any, needs: list) -> str | None:
    """``repr(v)`` when it evaluates (with ``v``'s class imported) to an equal object."""
    cls = type(v)
    text = repr(v)
    imports: list[str] = []
    env: dict = {"np": np, "math": math}
    ref = _import_reference(cls, imports)
    if ref is None:
        return None
    env[ref.split(".")[0]] = _resolve(cls.__module__, cls.__qualname__.split(".")[0])
    try:
        back = eval(text, env)  # noqa: S307 - our own objects' repr, checked below
        same = type(back) is cls and (back == v) is True
    except Exception:  # noqa: BLE001 - not evaluable: the caller tries nothing else
        return None
    if not same:
        return None
    needs.extend(imports)
    return text
