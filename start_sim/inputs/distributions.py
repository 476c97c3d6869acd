"""Probability distributions given as TOML tables, sampled by inverse transform.

Every sample is ``dist.ppf(u)`` of a uniform ``u`` that the caller took from the
family's own random stream. Inverse-transform sampling keeps common random numbers
monotone: the same family draws the same quantile in every scenario, so a longer
mean duration gives that family a longer duration, never a reshuffled one.
"""

from __future__ import annotations

import bisect
import math
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import special

from start_sim.inputs.bounds import CV_REASON, DAYS_REASON, MAX_CV, MAX_DAYS
from start_sim.inputs.none_word import none_words


class _Dist(BaseModel):
    """Base of the distribution tables: unknown keys rejected, frozen, finite numbers only."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _none_word(cls, data: Any) -> Any:
        """``"none"`` in a file is None in every field that allows it (TOML has no null)."""
        return none_words(cls.model_fields, data)

    def ppf(self, u: float) -> float:  # pragma: no cover - interface
        raise NotImplementedError

    def ppf_array(self, u: np.ndarray) -> np.ndarray:
        """Vectorised inverse CDF; subclasses override where numpy makes it cheap."""
        return np.array([self.ppf(float(x)) for x in np.ravel(u)]).reshape(np.shape(u))

    @property
    def mean(self) -> float:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def std(self) -> float:  # pragma: no cover - interface
        """Standard deviation of the distribution."""
        raise NotImplementedError


class Fixed(_Dist):
    """Always ``value``."""

    dist: Literal["fixed"]
    value: float = Field(ge=0, le=MAX_DAYS, description=DAYS_REASON)

    def ppf(self, u: float) -> float:
        return self.value

    def ppf_array(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value, dtype=float)

    @property
    def mean(self) -> float:
        return self.value

    @property
    def std(self) -> float:
        return 0.0


class Exponential(_Dist):
    """Exponential with the given ``mean``."""

    dist: Literal["exponential"]
    mean_: float = Field(gt=0, le=MAX_DAYS, alias="mean", description=DAYS_REASON)

    def ppf(self, u: float) -> float:
        return -self.mean_ * math.log1p(-u)

    def ppf_array(self, u: np.ndarray) -> np.ndarray:
        return -self.mean_ * np.log1p(-np.asarray(u, dtype=float))

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def std(self) -> float:
        return self.mean_


class _MeanSd(_Dist):
    """A distribution given by its own ``mean`` and ``sd`` (fields of each subclass, after its ``dist``
    tag), within a spread whose quantiles are finite."""

    if TYPE_CHECKING:  # declared by each subclass, so that ``dist`` stays the first key
        mean_: float
        sd: float

    @model_validator(mode="after")
    def _spread(self) -> Self:
        """Refuse a spread whose quantiles overflow or underflow (e.g. mean 1e-300, sd 1e6)."""
        if not self.mean_ / MAX_CV <= self.sd <= MAX_CV * self.mean_:
            raise ValueError(f"sd = {self.sd:g} with mean = {self.mean_:g} is not allowed: {CV_REASON}")
        return self

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def std(self) -> float:
        return self.sd


class Lognormal(_MeanSd):
    """Lognormal parameterised by its own ``mean`` and ``sd`` (not those of the log)."""

    dist: Literal["lognormal"]
    mean_: float = Field(gt=0, le=MAX_DAYS, alias="mean", description=DAYS_REASON)
    sd: float = Field(gt=0, le=MAX_DAYS, description=DAYS_REASON)

    @cached_property
    def _mu_sigma(self) -> tuple[float, float]:
        """Parameters of the log (cached: read on every draw)."""
        s2 = math.log1p((self.sd / self.mean_) ** 2)
        return math.log(self.mean_) - s2 / 2, math.sqrt(s2)

    def ppf(self, u: float) -> float:
        mu, sigma = self._mu_sigma
        return math.exp(mu + sigma * float(special.ndtri(u)))

    def ppf_array(self, u: np.ndarray) -> np.ndarray:
        mu, sigma = self._mu_sigma
        return np.exp(mu + sigma * special.ndtri(np.asarray(u, dtype=float)))


class Gamma(_MeanSd):
    """Gamma by ``mean`` and ``sd`` (shape = (mean/sd)^2)."""

    dist: Literal["gamma"]
    mean_: float = Field(gt=0, le=MAX_DAYS, alias="mean", description=DAYS_REASON)
    sd: float = Field(gt=0, le=MAX_DAYS, description=DAYS_REASON)

    def ppf(self, u: float) -> float:
        shape = (self.mean_ / self.sd) ** 2
        return float(special.gammaincinv(shape, u)) * self.mean_ / shape

    def ppf_array(self, u: np.ndarray) -> np.ndarray:
        shape = (self.mean_ / self.sd) ** 2
        return special.gammaincinv(shape, np.asarray(u, dtype=float)) * self.mean_ / shape


class Uniform(_Dist):
    """Uniform on [``low``, ``high``]."""

    dist: Literal["uniform"]
    low: float = Field(ge=0, le=MAX_DAYS, description=DAYS_REASON)
    high: float = Field(ge=0, le=MAX_DAYS, description=DAYS_REASON)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high:g}) must be at least low ({self.low:g})")
        return self

    def ppf(self, u: float) -> float:
        return self.low + (self.high - self.low) * u

    def ppf_array(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def std(self) -> float:
        return (self.high - self.low) / math.sqrt(12.0)


class Empirical(_Dist):
    """Discrete values with weights (normalised); without weights, equally likely.

    With ``interpolate = true`` the values are bin edges and the weights the share of
    each bin, sampled uniformly within the bin (a histogram; one fewer weight than values).
    Discrete values are kept sorted (with their weights), so that ``ppf`` rises with ``u``
    and common random numbers stay monotone.
    """

    dist: Literal["empirical"]
    values: list[Annotated[float, Field(le=MAX_DAYS)]] = Field(min_length=1, max_length=10_000, description=DAYS_REASON)
    weights: list[float] | None = None
    interpolate: bool = False

    @model_validator(mode="before")
    @classmethod
    def _sorted(cls, data: Any) -> Any:
        """Sort discrete values (and their weights) ascending; leave anything invalid to ``_check``."""
        if not isinstance(data, dict) or data.get("interpolate", False) is not False:
            return data
        values, weights = data.get("values"), data.get("weights")

        def numbers(xs: Any) -> bool:
            return isinstance(xs, list) and all(isinstance(x, int | float) and not isinstance(x, bool) for x in xs)

        if not numbers(values) or values == sorted(values):
            return data
        if weights is None:
            return {**data, "values": sorted(values)}
        if not numbers(weights) or len(weights) != len(values):
            return data
        pairs = sorted(zip(values, weights, strict=True), key=lambda vw: vw[0])
        return {**data, "values": [v for v, _ in pairs], "weights": [w for _, w in pairs]}

    @model_validator(mode="after")
    def _check(self) -> Empirical:
        if any(v < 0 for v in self.values):
            raise ValueError(f"values must be 0 or more (got {min(self.values):g})")
        n = len(self.values) - 1 if self.interpolate else len(self.values)
        if self.interpolate and (n < 1 or any(b <= a for a, b in zip(self.values, self.values[1:], strict=False))):
            raise ValueError("with interpolate = true, values are bin edges: at least 2, each larger than the last")
        if self.weights is not None:
            if len(self.weights) != n:
                per = "one per bin, one fewer than values" if self.interpolate else "one per value"
                raise ValueError(
                    f"weights has {len(self.weights)} entries and values {len(self.values)}; {n} weights expected ({per})"
                )
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be 0 or more with a positive sum")
        return self

    @cached_property
    def _cum(self) -> tuple[float, ...]:
        """Cumulative probabilities (cached: read on every draw)."""
        n = len(self.values) - 1 if self.interpolate else len(self.values)
        w = np.ones(n) if self.weights is None else np.asarray(self.weights, dtype=float)
        c = np.cumsum(w / w.sum())
        c[-1] = 1.0
        return tuple(float(x) for x in c)

    def ppf_array(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        cum = np.asarray(self._cum)
        idx = np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)
        vals = np.asarray(self.values, dtype=float)
        if not self.interpolate:
            return vals[idx]
        lo_c = np.where(idx > 0, cum[idx - 1], 0.0)
        frac = np.clip((u - lo_c) / np.maximum(cum[idx] - lo_c, 1e-300), 0.0, 1.0)
        return vals[idx] + frac * (vals[idx + 1] - vals[idx])

    def ppf(self, u: float) -> float:
        """Scalar ``ppf_array`` without numpy (the per-family hot path); same arithmetic, same result."""
        cum = self._cum
        i = min(bisect.bisect_right(cum, u), len(cum) - 1)
        v = self.values
        if not self.interpolate:
            return float(v[i])
        lo = cum[i - 1] if i > 0 else 0.0
        frac = min(max((u - lo) / max(cum[i] - lo, 1e-300), 0.0), 1.0)
        return float(v[i]) + frac * (float(v[i + 1]) - float(v[i]))

    def _points(self) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and values (bin midpoints when interpolating)."""
        p = np.diff(np.concatenate([[0.0], self._cum]))
        vals = np.asarray(self.values, dtype=float)
        return p, vals

    @property
    def mean(self) -> float:
        p, vals = self._points()
        if self.interpolate:
            vals = (vals[:-1] + vals[1:]) / 2
        return float(np.dot(p, vals))

    @property
    def std(self) -> float:
        p, vals = self._points()
        if self.interpolate:
            lo, hi = vals[:-1], vals[1:]
            second = float(np.dot(p, (lo * lo + lo * hi + hi * hi) / 3))
        else:
            second = float(np.dot(p, vals * vals))
        return math.sqrt(max(second - self.mean**2, 0.0))


Distribution = Annotated[
    Fixed | Exponential | Lognormal | Gamma | Uniform | Empirical,
    Field(discriminator="dist"),
]
"""A distribution table: ``{dist = "lognormal", mean = 426, sd = 150}`` and so on."""

DIST_NAMES = ("fixed", "exponential", "lognormal", "gamma", "uniform", "empirical")
