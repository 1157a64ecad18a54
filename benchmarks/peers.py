"""Thin adapters, one class per implementation, all with the same small interface:

    ns                      the NumPy-like namespace the workloads are written against
    array(tree)             the workload's NumPy data as this implementation takes it
                            (converted once, outside the timing)
    done(out)               wait until ``out`` is computed (JAX dispatches asynchronously)
    jit(f)                  compile ``f`` (the identity for eager implementations)
    loop(n, body, state)    how a loop is written: a Python loop, or ``lax.fori_loop``
    grad(f, argnums), value_and_grad(f, argnums), hessian(f), hvp(f, x, v) -> H v,
    deriv(f, y, ones) -> (f(y), f'(y) * ones)   pointwise derivative of an elementwise map

Each implementation is imported only when its adapter is made; a missing one raises
``Unavailable`` and its column is left out with a note.
"""

import importlib
from types import SimpleNamespace

from workloads import python_loop


class Unavailable(Exception):
    pass


def _import(name):
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise Unavailable(f"not installed ({e})") from None


def _with_args(f, argnums):
    """f as a function of the tuple of its arguments ``argnums`` (then all arguments)."""

    def g(selected, *args):
        args = list(args)
        for i, a in zip(argnums, selected, strict=True):
            args[i] = a
        return f(*args)

    return g


class Impl:
    ns = None
    loops_only = False  # a variant that only differs on workloads written with `loop`
    loop = staticmethod(python_loop)

    def array(self, tree):
        return tree

    def done(self, out):
        return out

    def jit(self, f):
        return f

    def grad(self, f, argnums=0):
        vg = self.value_and_grad(f, argnums)
        return lambda *args: vg(*args)[1]

    def hvp(self, f, x, v):
        return self.jvp(self.grad(f), (x,), (v,))[1]

    def deriv(self, f, y, ones):
        return self.jvp(f, (y,), (ones,))


class Chainrule(Impl):
    def __init__(self):
        try:
            import chainrule
            import chainrule.numpy as cnp

            self.cr, self.ns = chainrule, cnp
            self.jvp, self.hessian = chainrule.jvp, chainrule.hessian
            self.grad, self.value_and_grad = chainrule.grad, chainrule.value_and_grad
            self.hvp = lambda f, x, v: chainrule.hvp(f, (x,), (v,))
        except (ImportError, AttributeError) as e:
            raise Unavailable(f"chainrule core not importable yet ({e})") from None


class ChainruleJit(Chainrule):
    """``chainrule.jit`` of the whole transformed function; Python loops are unrolled."""

    compiles = True

    def jit(self, f):
        return self.cr.jit(f)


class ChainruleNumba(ChainruleJit):
    """``chainrule.jit(f, backend="numba")``: elementwise chains fused into Numba loops."""

    def __init__(self):
        super().__init__()
        try:
            import numba  # noqa: F401
        except ImportError:
            raise Unavailable("Numba is not installed (pip install chainrule[jit])") from None

    def jit(self, f):
        return self.cr.jit(f, backend="numba")


class ChainruleJitFori(ChainruleJit):
    """``chainrule.jit`` with loops as ``chainrule.fori_loop``."""

    loops_only = True

    def loop(self, n, body, state):
        return self.cr.fori_loop(0, n, lambda i, s: body(s), state)


class Autograd(Impl):
    def __init__(self):
        self.ag = _import("autograd")
        self.ns = _import("autograd.numpy")
        self.hessian = self.ag.hessian
        self.hvp = lambda f, x, v: self.ag.hessian_tensor_product(f)(x, v)

    def value_and_grad(self, f, argnums=0):
        if isinstance(argnums, int):
            return self.ag.value_and_grad(f, argnums)
        vg = self.ag.value_and_grad(_with_args(f, argnums))
        return lambda *args: vg(tuple(args[i] for i in argnums), *args)

    def deriv(self, f, y, ones):
        return self.ag.make_jvp(f)(y)(ones)  # autograd's forward mode


class Jax(Impl):
    """JAX eager (op-by-op dispatch), float64."""

    def __init__(self):
        jax = _import("jax")
        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_platforms", "cpu")
        self.jax, self.ns = jax, jax.numpy
        self.jvp, self.hessian = jax.jvp, jax.hessian
        self.grad, self.value_and_grad = jax.grad, jax.value_and_grad

    def array(self, tree):  # NumPy arrays onto the device; Python floats stay floats
        return self.jax.tree.map(lambda a: self.ns.asarray(a) if hasattr(a, "shape") else a, tree)

    def done(self, out):
        return self.jax.block_until_ready(out)


class JaxJit(Jax):
    """``jax.jit`` of the whole transformed function; Python loops are unrolled."""

    compiles = True

    def jit(self, f):
        return self.jax.jit(f)


class JaxJitFori(JaxJit):
    """``jax.jit`` with loops as ``lax.fori_loop``."""

    loops_only = True

    def loop(self, n, body, state):
        state = self.jax.tree.map(lambda a: self.ns.asarray(a, dtype=self.ns.float64), state)
        return self.jax.lax.fori_loop(0, n, lambda i, s: body(s), state)


class _TorchBase(Impl):
    def __init__(self):
        self.torch = torch = _import("torch")
        torch.set_num_threads(2)
        # torch takes NumPy's axis= and keepdims= aliases; NumPy's max is torch's amax
        names = ("sin", "cos", "exp", "log", "tanh", "sum", "mean")
        self.ns = SimpleNamespace(max=torch.amax, **{n: getattr(torch, n) for n in names})
        from torch.utils._pytree import tree_flatten, tree_map, tree_unflatten

        self.flatten, self.unflatten, self.tree_map = tree_flatten, tree_unflatten, tree_map

    def array(self, tree):
        to_tensor = lambda a: (
            self.torch.tensor(a, dtype=self.torch.float64)
            if isinstance(a, float)
            else self.torch.from_numpy(a)
        )
        return self.tree_map(to_tensor, tree)


class Torch(_TorchBase):
    """PyTorch eager autograd (``torch.autograd.grad``), 2 threads."""

    def value_and_grad(self, f, argnums=0):
        single = isinstance(argnums, int)
        nums = (argnums,) if single else tuple(argnums)

        def vg(*args):
            args = list(args)
            for i in nums:
                args[i] = self.tree_map(lambda a: a.detach().requires_grad_(), args[i])
            out = f(*args)
            leaves, spec = self.flatten([args[i] for i in nums])
            grads = self.unflatten(list(self.torch.autograd.grad(out, leaves)), spec)
            return out.detach(), grads[0] if single else tuple(grads)

        return vg

    def hessian(self, f):
        return lambda x: self.torch.autograd.functional.hessian(f, x, vectorize=True)

    def hvp(self, f, x, v):  # reverse over reverse (double backward)
        x = x.detach().requires_grad_()
        (g,) = self.torch.autograd.grad(f(x), x, create_graph=True)
        return self.torch.autograd.grad(g, x, v)[0]

    def deriv(self, f, y, ones):  # reverse mode with create_graph=True: the usual PINN idiom
        if not y.requires_grad:
            y = y.detach().requires_grad_()
        out = f(y)
        return out, self.torch.autograd.grad(out, y, ones, create_graph=True)[0]


class TorchFunc(_TorchBase):
    """``torch.func`` (functorch transforms), 2 threads."""

    def __init__(self):
        super().__init__()
        self.jvp, self.hessian = self.torch.func.jvp, self.torch.func.hessian

    def grad(self, f, argnums=0):
        return self.torch.func.grad(f, argnums=argnums)

    def value_and_grad(self, f, argnums=0):
        gv = self.torch.func.grad_and_value(f, argnums=argnums)
        return lambda *args: gv(*args)[::-1]


IMPLS = {
    "chainrule": Chainrule,
    "chainrule.jit": ChainruleJit,
    "chainrule.jit+fori": ChainruleJitFori,
    "chainrule.numba": ChainruleNumba,
    "autograd": Autograd,
    "jax": Jax,
    "jax.jit": JaxJit,
    "jax.jit+fori": JaxJitFori,
    "torch": Torch,
    "torch.func": TorchFunc,
}
