"""Probability distributions given as TOML tables, sampled by inverse transform.

Every sample is ``dist.ppf(u)`` of a uniform ``u`` that the caller took from the
family's own random stream. Inverse-transform sampling keeps common random numbers
monotone: the same family draws the same quantile in every scenario, so a longer
mean duration gives that family a longer duration, never a reshuffled one.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import special


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def ppf(self, u: float) -> float:  # pragma: no cover - interface
        raise NotImplementedError

    def ppf_array(self, u: np.ndarray) -> np.ndarray:
        """Vectorised inverse CDF; subclasses override where numpy makes it cheap."""
        return np.array([self.ppf(float(x)) for x in np.ravel(u)]).reshape(np.shape(u))

    @property
    def mean(self) -> float:  # pragma: no cover - interface
        raise NotImplementedError


class Fixed(_Dist):
    """Always ``value``."""

    dist: Literal["fixed"]
    value: float = Field(ge=0)

    def ppf(self, u: float) -> float:
        return self.value

    def ppf_array(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value, dtype=float)

    @property
    def mean(self) -> float:
        return self.value


class Exponential(_Dist):
    """Exponential with the given ``mean``."""

    dist: Literal["exponential"]
    mean_: float = Field(gt=0, alias="mean")

    def ppf(self, u: float) -> float:
        return -self.mean_ * math.log1p(-u)

    def ppf_array(self, u: np.ndarray) -> np.ndarray:
        return -self.mean_ * np.log1p(-np.asarray(u, dtype=float))

    @property
    def mean(self) -> float:
        return self.mean_


class Lognormal(_Dist):
    """Lognormal parameterised by its own ``mean`` and ``sd`` (not those of the log)."""

    dist: Literal["lognormal"]
    mean_: float = Field(gt=0, alias="mean")
    sd: float = Field(gt=0)

    def _mu_sigma(self) -> tuple[float, float]:
        s2 = math.log1p((self.sd / self.mean_) ** 2)
        return math.log(self.mean_) - s2 / 2, math.sqrt(s2)

    def ppf(self, u: float) -> float:
        mu, sigma = self._mu_sigma()
        return math.exp(mu + sigma * float(special.ndtri(u)))

    def ppf_array(self, u: np.ndarray) -> np.ndarray:
        mu, sigma = self._mu_sigma()
        return np.exp(mu + sigma * special.ndtri(np.asarray(u, dtype=float)))

    @property
    def mean(self) -> float:
        return self.mean_


class Gamma(_Dist):
    """Gamma by ``mean`` and ``sd`` (shape = (mean/sd)^2)."""

    dist: Literal["gamma"]
    mean_: float = Field(gt=0, alias="mean")
    sd: float = Field(gt=0)

    def ppf(self, u: float) -> float:
        shape = (self.mean_ / self.sd) ** 2
        return float(special.gammaincinv(shape, u)) * self.mean_ / shape

    def ppf_array(self, u: np.ndarray) -> np.ndarray:
        shape = (self.mean_ / self.sd) ** 2
        return special.gammaincinv(shape, np.asarray(u, dtype=float)) * self.mean_ / shape

    @property
    def mean(self) -> float:
        return self.mean_


class Uniform(_Dist):
    """Uniform on [``low``, ``high``]."""

    dist: Literal["uniform"]
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> "Uniform":
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def ppf(self, u: float) -> float:
        return self.low + (self.high - self.low) * u

    def ppf_array(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2


class Empirical(_Dist):
    """Discrete values with weights (normalised); without weights, equally likely.

    With ``interpolate = true`` the values are bin edges and the weights the share of
    each bin, sampled uniformly within the bin (a histogram; one fewer weight than values).
    """

    dist: Literal["empirical"]
    values: list[float] = Field(min_length=1)
    weights: list[float] | None = None
    interpolate: bool = False

    @model_validator(mode="after")
    def _check(self) -> "Empirical":
        if any(v < 0 for v in self.values):
            raise ValueError("values must be >= 0")
        n = len(self.values) - 1 if self.interpolate else len(self.values)
        if self.interpolate and (n < 1 or any(b <= a for a, b in zip(self.values, self.values[1:]))):
            raise ValueError("with interpolate = true, values are increasing bin edges (at least 2)")
        if self.weights is not None:
            if len(self.weights) != n:
                raise ValueError(f"weights has {len(self.weights)} entries; {n} expected")
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be >= 0 with a positive sum")
        return self

    def _cum(self) -> np.ndarray:
        n = len(self.values) - 1 if self.interpolate else len(self.values)
        w = np.ones(n) if self.weights is None else np.asarray(self.weights, dtype=float)
        c = np.cumsum(w / w.sum())
        c[-1] = 1.0
        return c

    def ppf_array(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        cum = self._cum()
        idx = np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)
        vals = np.asarray(self.values, dtype=float)
        if not self.interpolate:
            return vals[idx]
        lo_c = np.where(idx > 0, cum[idx - 1], 0.0)
        frac = np.clip((u - lo_c) / np.maximum(cum[idx] - lo_c, 1e-300), 0.0, 1.0)
        return vals[idx] + frac * (vals[idx + 1] - vals[idx])

    def ppf(self, u: float) -> float:
        return float(self.ppf_array(np.asarray([u]))[0])

    @property
    def mean(self) -> float:
        cum = self._cum()
        p = np.diff(np.concatenate([[0.0], cum]))
        vals = np.asarray(self.values, dtype=float)
        if self.interpolate:
            vals = (vals[:-1] + vals[1:]) / 2
        return float(np.dot(p, vals))


Distribution = Annotated[
    Union[Fixed, Exponential, Lognormal, Gamma, Uniform, Empirical],
    Field(discriminator="dist"),
]
"""A distribution table: ``{dist = "lognormal", mean = 426, sd = 150}`` and so on."""

DIST_NAMES = ("fixed", "exponential", "lognormal", "gamma", "uniform", "empirical")
