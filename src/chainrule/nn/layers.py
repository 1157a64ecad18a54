"""Layers as (init, apply) pairs, functional like JAX's stax: parameters are plain pytrees.

A :class:`Layer` has ``init(rng, input_shape, dtype=float64) -> params`` (``rng`` a seed or
a :class:`numpy.random.Generator`, ``input_shape`` the shape of ONE example, without the
batch axis), ``apply(params, x, rng=None) -> y`` for a batch ``x`` (leading axis = examples)
and ``output_shape(input_shape)``. Parameters are dicts of arrays (a list of them for
:func:`serial` and :func:`MLP`), so every chainrule transformation takes them as they are:
``cr.grad(lambda p: loss(model.apply(p, x), y))(params)``.

>>> import numpy, chainrule as cr, chainrule.nn as nn
>>> model = nn.MLP([16, 3], "tanh")
>>> params = model.init(0, (4,))
>>> [p["W"].shape for p in params]
[(4, 16), (16, 3)]
>>> model.apply(params, numpy.ones((5, 4))).shape
(5, 3)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy

import chainrule.numpy as np
from chainrule.nn import initializers as inits
from chainrule.nn.activations import get_activation

__all__ = ["Layer", "Dense", "MLP", "Conv1D", "Conv2D", "Dropout", "LayerNorm", "Activation",
           "Flatten", "serial"]

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Layer:
    """A layer or a model: its parameters' initialiser and its forward map.

    Attributes:
        name: what it is, for messages (``"Dense(10)"``).
        init: ``init(rng, input_shape, dtype=float64) -> params``.
        apply: ``apply(params, x, rng=None) -> y``; ``rng`` (a Generator) switches on the
            random layers (:func:`Dropout`), None means inference.
        output_shape: ``output_shape(input_shape) -> shape`` of one example.
    """

    name: str
    init: Callable[..., Any]
    apply: Callable[..., Any]
    output_shape: Callable[[Shape], Shape]

    def __call__(self, params, x, rng=None):
        return self.apply(params, x, rng=rng)

    def __repr__(self) -> str:
        return self.name


def _shape(input_shape, name: str, ndim: int | None = None) -> Shape:
    shape = (input_shape,) if isinstance(input_shape, (int, numpy.integer)) else input_shape
    try:
        shape = tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(f"{name}: input_shape must be the shape of one example (a tuple of "
                        f"ints, no batch axis), got {input_shape!r}") from None
    if ndim is not None and len(shape) != ndim:
        raise ValueError(f"{name}: input_shape must have {ndim} axes (one example, no batch "
                         f"axis), got {shape}")
    return shape


def _positive(value, what: str, name: str) -> int:
    if not isinstance(value, (int, numpy.integer)) or value < 1:
        raise ValueError(f"{name}: {what} must be a positive int, got {value!r}")
    return int(value)


def Dense(units: int, w_init: Callable = inits.glorot_normal,
          b_init: Callable = inits.zeros) -> Layer:
    """A fully connected layer, y = x W + b, acting on the last axis.

    Args:
        units: the output width.
        w_init: the initialiser of W (shape (n_in, units)).
        b_init: the initialiser of b (shape (units,)).

    Returns:
        The layer; its params are ``{"W": W, "b": b}``.
    """
    name = f"Dense({units})"
    units = _positive(units, "units", name)

    def init(rng, input_shape, dtype=numpy.float64):
        shape = _shape(input_shape, name)
        gen = inits.as_rng(rng)
        return {"W": w_init(gen, (shape[-1], units), dtype), "b": b_init(gen, (units,), dtype)}

    def apply(params, x, rng=None):
        return x @ params["W"] + params["b"]

    return Layer(name, init, apply, lambda s: _shape(s, name)[:-1] + (units,))


def Activation(activation) -> Layer:
    """A parameter-free layer applying ``activation`` (a function or a name like "relu")."""
    fn = get_activation(activation)
    name = getattr(fn, "__name__", "activation")
    return Layer(name, lambda rng, input_shape, dtype=numpy.float64: {},
                 lambda params, x, rng=None: fn(x), lambda s: _shape(s, name))


def Flatten() -> Layer:
    """A parameter-free layer reshaping each example to a vector: (n, d1, d2, ...) → (n, d1·d2⋯)."""
    return Layer("Flatten", lambda rng, input_shape, dtype=numpy.float64: {},
                 lambda params, x, rng=None: np.reshape(x, (np.shape(x)[0], -1)),
                 lambda s: (int(numpy.prod(_shape(s, "Flatten"))),))


def serial(*layers: Layer) -> Layer:
    """The layers composed, first to last: apply(params, x) = l_n(…l_2(l_1(x))).

    Args:
        *layers: the layers.

    Returns:
        A layer whose params are the list of the layers' params (``{}`` for those
        without parameters). ``rng`` is passed on to every layer.

    >>> import chainrule.nn as nn
    >>> model = nn.serial(nn.Dense(8), nn.Activation("relu"), nn.Dense(1))
    >>> model, model.output_shape((3,))
    (serial(Dense(8), relu, Dense(1)), (1,))
    """
    for k, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"serial: argument {k} must be a Layer (e.g. nn.Dense(10)), got "
                            f"{type(layer).__name__}")
    name = f"serial({', '.join(layer.name for layer in layers)})"

    def init(rng, input_shape, dtype=numpy.float64):
        gen = inits.as_rng(rng)
        shape = _shape(input_shape, name)
        params = []
        for layer in layers:
            params.append(layer.init(gen, shape, dtype))
            shape = layer.output_shape(shape)
        return params

    def apply(params, x, rng=None):
        if len(params) != len(layers):
            raise ValueError(f"{name}: params must be a list of {len(layers)} entries, one "
                             f"per layer (as init returns), got {len(params)}")
        gen = None if rng is None else inits.as_rng(rng)  # one stream for all the layers
        for layer, p in zip(layers, params, strict=True):
            x = layer.apply(p, x, rng=gen)
        return x

    def output_shape(input_shape):
        shape = _shape(input_shape, name)
        for layer in layers:
            shape = layer.output_shape(shape)
        return shape

    return Layer(name, init, apply, output_shape)


def MLP(widths: Sequence[int], activation="relu", w_init: Callable | None = None,
        final_activation=None) -> Layer:
    """A multilayer perceptron: Dense layers of ``widths`` with ``activation`` between them.

    The last width is the output; no activation follows it unless ``final_activation``
    is given (losses such as :func:`~chainrule.nn.softmax_cross_entropy` take logits).

    Args:
        widths: the output widths of the Dense layers, e.g. ``[256, 10]``.
        activation: a function or a name (relu, leaky_relu, sigmoid, tanh, softplus, gelu).
        w_init: the weights' initialiser; default He normal for relu-like activations,
            Glorot normal otherwise.
        final_activation: an activation after the last layer (default none).

    Returns:
        The layer; its params are a list of ``{"W", "b"}`` dicts, one per Dense layer.
    """
    widths = [_positive(w, "every width", "MLP") for w in widths]
    if not widths:
        raise ValueError("MLP: widths must name at least one layer, e.g. [64, 10]")
    fn = get_activation(activation)
    if w_init is None:
        relu_like = getattr(fn, "__name__", "") in ("relu", "leaky_relu", "gelu")
        w_init = inits.he_normal if relu_like else inits.glorot_normal
    dense = [Dense(w, w_init) for w in widths]
    final = None if final_activation is None else get_activation(final_activation)
    name = f"MLP({widths}, {getattr(fn, '__name__', 'activation')})"

    def init(rng, input_shape, dtype=numpy.float64):
        gen = inits.as_rng(rng)
        shape = _shape(input_shape, name)
        params = []
        for layer in dense:
            params.append(layer.init(gen, shape, dtype))
            shape = layer.output_shape(shape)
        return params

    def apply(params, x, rng=None):
        if len(params) != len(dense):
            raise ValueError(f"{name}: params must be a list of {len(dense)} Dense entries, "
                             f"got {len(params)}")
        for k, p in enumerate(params):
            x = x @ p["W"] + p["b"]
            if k < len(params) - 1:
                x = fn(x)
        return x if final is None else final(x)

    return Layer(name, init, apply, lambda s: _shape(s, name)[:-1] + (widths[-1],))


def _conv_geometry(size: int, kernel: int, stride: int, padding: str, name: str):
    """(output size, padding before, padding after) along one spatial axis."""
    if padding == "valid":
        if size < kernel:
            raise ValueError(f"{name}: input size {size} is smaller than the kernel {kernel}; "
                             f"use padding='same'")
        return (size - kernel) // stride + 1, 0, 0
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        return out, total // 2, total - total // 2
    raise ValueError(f"{name}: padding must be 'valid' or 'same', got {padding!r}")


def _conv(x, kernel, strides: Sequence[int], padding: str, name: str):
    """Cross-correlation y[n, o…, d] = Σ_{i…, c} x[n, o·s + i…, c]·K[i…, c, d].

    Each kernel offset i… takes one strided slice of the (padded) input; the slices are
    stacked and contracted with the kernel in one ``einsum``, so the derivative in x and
    in K is einsum's and the slices' (both linear).
    """
    spatial = len(strides)
    kshape = tuple(np.shape(kernel))[:spatial]
    xshape = tuple(np.shape(x))
    if len(xshape) != spatial + 2:
        raise ValueError(f"{name}: x must have shape (batch, {'spatial…, ' * spatial}channels)"
                         f" with {spatial + 2} axes, got {xshape}")
    geo = [_conv_geometry(xshape[1 + a], kshape[a], strides[a], padding, name)
           for a in range(spatial)]
    if any(before or after for _, before, after in geo):
        x = np.pad(x, [(0, 0)] + [(b, a) for _, b, a in geo] + [(0, 0)])
    outs = [o for o, _, _ in geo]
    offsets = numpy.ndindex(*kshape)
    windows = [x[(slice(None),) + tuple(slice(i, i + (o - 1) * s + 1, s)
                                        for i, o, s in zip(idx, outs, strides, strict=True))]
               for idx in offsets]
    stacked = np.stack(windows, axis=-2)  # (n, out…, K, c)
    flat_kernel = np.reshape(kernel, (-1,) + tuple(np.shape(kernel))[spatial:])  # (K, c, d)
    return np.einsum("...kc,kcd->...d", stacked, flat_kernel)


def _conv_layer(features: int, kernel_size: tuple[int, ...], strides: tuple[int, ...],
                padding: str, w_init: Callable, b_init: Callable, name: str) -> Layer:
    features = _positive(features, "features", name)
    if padding not in ("valid", "same"):
        raise ValueError(f"{name}: padding must be 'valid' or 'same', got {padding!r}")
    spatial = len(kernel_size)

    def init(rng, input_shape, dtype=numpy.float64):
        shape = _shape(input_shape, name, spatial + 1)
        gen = inits.as_rng(rng)
        return {"W": w_init(gen, kernel_size + (shape[-1], features), dtype),
                "b": b_init(gen, (features,), dtype)}

    def apply(params, x, rng=None):
        return _conv(x, params["W"], strides, padding, name) + params["b"]

    def output_shape(input_shape):
        shape = _shape(input_shape, name, spatial + 1)
        return tuple(_conv_geometry(shape[a], kernel_size[a], strides[a], padding, name)[0]
                     for a in range(spatial)) + (features,)

    return Layer(name, init, apply, output_shape)


def _tuple(value, n: int, what: str, name: str) -> tuple[int, ...]:
    values = (value,) * n if isinstance(value, (int, numpy.integer)) else tuple(value)
    if len(values) != n:
        raise ValueError(f"{name}: {what} must be an int or {n} ints, got {value!r}")
    return tuple(_positive(v, what, name) for v in values)


def Conv1D(features: int, kernel_size: int, stride: int = 1, padding: str = "valid",
           w_init: Callable = inits.he_normal, b_init: Callable = inits.zeros) -> Layer:
    """A 1-D convolution layer (cross-correlation, as deep-learning libraries define it).

    y[n, t, d] = b[d] + Σ_{i, c} x[n, t·stride + i, c]·W[i, c, d] on inputs of shape
    (batch, length, channels); ``padding="same"`` pads with zeros so the output length is
    ⌈length / stride⌉, ``"valid"`` does not pad.

    Args:
        features: output channels.
        kernel_size: the window length.
        stride: the step between windows.
        padding: "valid" or "same".
        w_init, b_init: initialisers of W (kernel_size, c_in, features) and b (features,).

    Returns:
        The layer; its params are ``{"W": W, "b": b}``.
    """
    name = f"Conv1D({features}, {kernel_size})"
    return _conv_layer(features, _tuple(kernel_size, 1, "kernel_size", name),
                       _tuple(stride, 1, "stride", name), padding, w_init, b_init, name)


def Conv2D(features: int, kernel_size: int | tuple[int, int], strides=1,
           padding: str = "valid", w_init: Callable = inits.he_normal,
           b_init: Callable = inits.zeros) -> Layer:
    """A 2-D convolution layer (cross-correlation) on images of shape (batch, H, W, channels).

    y[n, h, w, d] = b[d] + Σ_{i, j, c} x[n, h·s_h + i, w·s_w + j, c]·K[i, j, c, d].

    Args:
        features: output channels.
        kernel_size: (k_h, k_w) or one int for both.
        strides: (s_h, s_w) or one int.
        padding: "valid" or "same" (zeros, output ⌈H / s_h⌉ × ⌈W / s_w⌉).
        w_init, b_init: initialisers of K (k_h, k_w, c_in, features) and b (features,).

    Returns:
        The layer; its params are ``{"W": K, "b": b}``.
    """
    name = f"Conv2D({features}, {kernel_size})"
    return _conv_layer(features, _tuple(kernel_size, 2, "kernel_size", name),
                       _tuple(strides, 2, "strides", name), padding, w_init, b_init, name)


def Dropout(rate: float) -> Layer:
    """Inverted dropout: with an ``rng`` each entry is zeroed with probability ``rate`` and
    the rest scaled by 1 / (1 - rate), so the expectation is unchanged; without an
    ``rng`` (inference) the layer is the identity.

    The randomness is explicit: ``apply(params, x, rng=numpy.random.default_rng(seed))``.
    The mask is drawn when ``apply`` runs, so inside a ``jit``-compiled step it would be
    drawn once, at tracing: train models with dropout eagerly.

    Args:
        rate: the drop probability, 0 ≤ rate < 1.

    Returns:
        The layer (no parameters).

    >>> import numpy, chainrule.nn as nn
    >>> drop = nn.Dropout(0.5)
    >>> drop.apply({}, numpy.ones(4)).tolist()
    [1.0, 1.0, 1.0, 1.0]
    >>> drop.apply({}, numpy.ones(4), rng=numpy.random.default_rng(1)).tolist()
    [2.0, 2.0, 0.0, 2.0]
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"Dropout: rate must be in [0, 1), got {rate!r}")
    name = f"Dropout({rate})"

    def apply(params, x, rng=None):
        if rng is None or rate == 0.0:
            return x
        gen = inits.as_rng(rng)
        keep = gen.random(tuple(np.shape(x))) >= rate
        dtype = getattr(x, "dtype", numpy.float64)
        return x * (keep.astype(dtype) / numpy.asarray(1.0 - rate, dtype))

    return Layer(name, lambda rng, input_shape, dtype=numpy.float64: {}, apply,
                 lambda s: _shape(s, name))


def LayerNorm(eps: float = 1e-5) -> Layer:
    """Layer normalisation (Ba et al. 2016) over the last axis, with a learnt scale and offset.

    y = (x - μ) / √(σ² + eps) · scale + offset, μ and σ² the mean and variance of each
    example's last axis.

    Args:
        eps: added to the variance.

    Returns:
        The layer; its params are ``{"scale": ones, "offset": zeros}`` of the last axis' size.
    """
    name = "LayerNorm"

    def init(rng, input_shape, dtype=numpy.float64):
        d = _shape(input_shape, name)[-1]
        return {"scale": numpy.ones(d, dtype), "offset": numpy.zeros(d, dtype)}

    def apply(params, x, rng=None):
        mean = np.mean(x, axis=-1, keepdims=True)
        centred = x - mean
        var = np.mean(centred * centred, axis=-1, keepdims=True)
        return centred / np.sqrt(var + eps) * params["scale"] + params["offset"]

    return Layer(name, init, apply, lambda s: _shape(s, name))
