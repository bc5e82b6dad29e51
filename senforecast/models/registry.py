"""The registry of models: alias -> class, and a small data set each can be fitted on.

Every model class registers itself where it is defined, with the :func:`register` decorator::

    @register("last_value", data="local_area", example=small_authority)
    class LastValue(CountBaseline): ...

The pipeline's ``[model] kind = "..."`` is an alias of a ``local_area`` model here, and the
contract suite (``tests/test_model_contract.py``) runs every check on every entry, so a model
that is not registered, or does not keep the contract, fails the tests.

A module registers its models when it is imported: the England panel models
(:mod:`senforecast.models.panel`) appear once that package is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

from ..core.data import LocalAreaData
from ..core.errors import ModelError
from ..datasets.synthetic import synthetic_authority

__all__ = ["ModelEntry", "register", "get", "entries", "aliases", "small_authority"]

DataKind = Literal["local_area", "panel"]


@dataclass(frozen=True)
class ModelEntry:
    """One registered model.

    Attributes
    ----------
    alias : str
        Short name (``"cohort"``), used by configs and recorded in ``projection.meta.alias``.
    cls : type
        The model class.
    data : {"local_area", "panel"}
        What ``fit`` takes: a :class:`~senforecast.core.data.LocalAreaData`, or a tidy panel
        table ``year, area, <dim>, count`` of many authorities (England's published tables).
    example : callable
        Makes a small data set the model can be fitted on in about a second (tests, docs).
    params : callable or None
        Returns the parameters of a small, fast instance for tests (e.g. an ensemble's
        members); None: the defaults.
    """

    alias: str
    cls: type
    data: DataKind
    example: Callable[[], Any]
    params: Callable[[], dict[str, Any]] | None = None

    def make(self, **params: Any):
        """A new, unfitted instance: the entry's test parameters, updated by ``params``."""
        return self.cls(**{**(self.params() if self.params else {}), **params})


_REGISTRY: dict[str, ModelEntry] = {}


def register(alias: str, *, data: DataKind, example: Callable[[], Any],
             params: Callable[[], dict[str, Any]] | None = None) -> Callable[[type], type]:
    """Class decorator: register a model under ``alias`` and set its ``alias`` attribute.

    Parameters
    ----------
    alias : str
        Unique short name.
    data : {"local_area", "panel"}
        What ``fit`` takes.
    example : callable
        Returns small data the model can be fitted on.
    params : callable, optional
        Returns the parameters of a small instance for tests (called on first use, so it may
        build other models).

    Examples
    --------
    >>> from senforecast.models.base import BaseModel
    >>> @register("doc_example", data="local_area", example=small_authority)
    ... class Example(BaseModel):
    ...     pass
    >>> Example.alias, get("doc_example").cls is Example
    ('doc_example', True)
    >>> _ = _REGISTRY.pop("doc_example")  # keep the registry to the library's models
    """
    if data not in ("local_area", "panel"):
        raise ModelError(f"data must be 'local_area' or 'panel', not {data!r}")

    def deco(cls: type) -> type:
        old = _REGISTRY.get(alias)
        if old is not None and old.cls.__qualname__ != cls.__qualname__:
            raise ModelError(f"model alias {alias!r} is taken by {old.cls.__name__}")
        cls.alias = alias
        _REGISTRY[alias] = ModelEntry(alias, cls, data, example, params)
        return cls

    return deco


def get(alias: str) -> ModelEntry:
    """The entry of ``alias``; a clear error lists the aliases there are.

    Examples
    --------
    >>> from senforecast.models import baselines
    >>> get("last_value").cls.__name__
    'LastValue'
    """
    try:
        return _REGISTRY[alias]
    except KeyError:
        raise ModelError(f"no model {alias!r}; models are {sorted(_REGISTRY)}") from None


def entries(data: DataKind | None = None) -> list[ModelEntry]:
    """Every registered model (of one data kind), by alias."""
    return [e for a, e in sorted(_REGISTRY.items()) if data is None or e.data == data]


def aliases(data: DataKind | None = None) -> list[str]:
    """Aliases of the registered models (of one data kind), sorted."""
    return [e.alias for e in entries(data)]


def small_authority() -> LocalAreaData:
    """A small synthetic authority (about 150 plans, five censuses, two areas) every local
    model fits in about a second.

    Examples
    --------
    >>> d = small_authority()
    >>> sorted(d.plans["year"].unique().tolist())
    [2020, 2021, 2022, 2023, 2024]
    """
    return synthetic_authority(150, n_years=5, n_areas=2, seed=12)
