"""The Hard Concrete distribution: a relaxed binary mask with exact zeros and ones.

Louizos, Welling and Kingma (2018), used by De Cao et al. (2021, Appendix B) for the masks
of DiffMask. A Binary Concrete sample with location ``loc`` (a logit) and temperature ``tau``,

    s = sigmoid((log u - log(1 - u) + loc) / tau),      u ~ U(0, 1),

is stretched to ``(l, r)`` with ``l < 0 < 1 <= r`` and rectified into ``[0, 1]``:

    m = min(1, max(0, s (r - l) + l)).

The mass of the stretched variable below 0 collapses onto ``m = 0`` and the mass above 1
onto ``m = 1``, so a sample is exactly 0 (unit untouched), exactly 1 (unit replaced), or in
between, and it is differentiable in ``loc`` (the reparameterisation trick).

Orientation. The paper prints Eq. 9 as ``m = min(1, max(0, s (l - r) + r))``, which maps
``s = 1`` to ``l`` and ``s = 0`` to ``r``: the mirror image of the standard form. Because the
logistic noise ``log u - log(1 - u)`` is symmetric, the printed form with location ``loc``
has the same law as the standard form with location ``-loc``; ``loc`` then acts as a logit
for "leave the unit alone". This module uses the standard orientation (a larger ``loc``
makes an intervention more likely); ``sample(..., printed=True)`` draws from the printed one.

With ``r = 1`` (the paper's "support on [0, 1)") the mass at 1 vanishes: ``P(m = 1) = 0``
and the C_(0,1) constraint (Eq. 7) equals the L0 constraint (Eq. 8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class HardConcrete:
    """Hard Concrete masks, one independent distribution per entry of ``loc``.

    Parameters
    ----------
    temperature
        ``tau > 0``; small values push samples towards 0 and 1.
    lower, upper
        The stretch limits ``l < 0`` and ``r >= 1``. Louizos et al.: ``tau = 2/3``,
        ``l = -0.1``, ``r = 1.1`` (the defaults); the DiffMask code: ``0.2, -0.2, 1.0``.
    """

    temperature: float = 2 / 3
    lower: float = -0.1
    upper: float = 1.1

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if not self.lower < 0:
            raise ValueError(f"lower stretch limit must be < 0, got {self.lower}")
        if not self.upper >= 1:
            raise ValueError(f"upper stretch limit must be >= 1, got {self.upper}")

    def sample(
        self,
        loc: torch.Tensor,
        sample_shape: tuple[int, ...] = (),
        *,
        generator: torch.Generator | None = None,
        printed: bool = False,
    ) -> torch.Tensor:
        """Reparameterised samples of shape ``sample_shape + loc.shape`` (Eq. 9).

        ``printed=True`` uses the paper's printed stretch ``s (l - r) + r`` (see the module
        docstring): the same law as the standard one with ``loc`` negated.
        """
        shape = tuple(sample_shape) + tuple(loc.shape)
        eps = torch.finfo(loc.dtype).eps
        u = torch.rand(shape, generator=generator, device=loc.device, dtype=loc.dtype)
        u = u.clamp(eps, 1 - eps)
        s = torch.sigmoid((torch.log(u) - torch.log1p(-u) + loc) / self.temperature)
        width = self.upper - self.lower
        stretched = self.upper - s * width if printed else self.lower + s * width
        # with r = 1 the support is [0, 1): keep s rounded to 1.0 in floating point below 1
        return stretched.clamp(0.0, 1.0 if self.upper > 1 else 1 - eps)

    def _prob_above(self, loc: torch.Tensor, v: float) -> torch.Tensor:
        """``P(s > v)`` for the Binary Concrete ``s``: ``sigmoid(loc - tau * logit(v))``."""
        return torch.sigmoid(loc - self.temperature * math.log(v / (1 - v)))

    def prob_nonzero(self, loc: torch.Tensor) -> torch.Tensor:
        """``P(m != 0) = sigmoid(loc - tau log(-l / r))``: the expected L0 of Eq. 8."""
        return self._prob_above(loc, -self.lower / (self.upper - self.lower))

    def prob_one(self, loc: torch.Tensor) -> torch.Tensor:
        """``P(m = 1) = sigmoid(loc - tau log((1 - l) / (r - 1)))``; zero when ``r = 1``."""
        if self.upper == 1:
            return torch.zeros_like(loc)
        return self._prob_above(loc, (1 - self.lower) / (self.upper - self.lower))

    def prob_open(self, loc: torch.Tensor) -> torch.Tensor:
        """``P(0 < m < 1) = P(m != 0) - P(m = 1)``: the terms of C_(0,1) (Eq. 7)."""
        return self.prob_nonzero(loc) - self.prob_one(loc)

    def mean(self, loc: torch.Tensor, n_points: int = 1025) -> torch.Tensor:
        """``E[m]``, by the trapezoidal rule on ``E[m] = int_0^1 P(m > x) dx``.

        ``P(m > x) = P(s > (x - l) / (r - l))`` is a smooth function of ``x`` in closed
        form, so the quadrature is deterministic and exact to ~1e-6 (tested against Monte
        Carlo); DiffMask thresholds ``E[m] > 0.5`` after training (Appendix A).
        """
        if n_points < 2:
            raise ValueError(f"n_points must be >= 2, got {n_points}")
        x = torch.linspace(0.0, 1.0, n_points, device=loc.device, dtype=loc.dtype)
        v = ((x - self.lower) / (self.upper - self.lower)).clamp(max=1 - 1e-7)
        above = torch.sigmoid(loc[..., None] - self.temperature * torch.logit(v))
        return torch.trapezoid(above, x, dim=-1)
