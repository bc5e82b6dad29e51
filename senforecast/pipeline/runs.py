"""Many projections at once: several authorities or scenarios on any ``concurrent.futures`` executor.

:func:`project_many` projects many models (or fits then projects many authorities' data) and
:func:`run_scenarios` projects one model under many scenarios. Each run gets its own seed,
drawn from an independent stream of ``numpy.random.SeedSequence(seed).spawn(n)``, so a run's
numbers depend only on ``seed`` and its position - not on the executor, the number of
workers or the order runs finish in. A parallel run gives exactly the numbers of a serial run.

Any :class:`concurrent.futures.Executor` works: a local ``ProcessPoolExecutor`` (the
default), ``ThreadPoolExecutor``, a Dask ``distributed`` client's ``client.get_executor()``,
or ``"serial"`` to run in this process. Models and data travel to the workers by pickle.

Projections of large authorities are big (draws x years x cells, for the stock and four
flows), so pass ``reduce=`` - a picklable function applied to each projection *in the
worker* (e.g. :func:`totals_by`) - to bring back only what is needed.
"""
from __future__ import annotations

import copy
import functools
import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..core.data import LocalAreaData
from ..core.errors import SenForecastError
from ..core.scenarios import Scenario
from ..models.cohort.model import CohortModel


class SerialExecutor(Executor):
    """An executor that runs each task at once in the calling process (for debugging and tests).

    Examples
    --------
    >>> SerialExecutor().submit(pow, 2, 5).result()
    32
    """

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller via the future
            future.set_exception(exc)
        return future


def spawn_seeds(seed: int | np.random.SeedSequence | None, n: int) -> list[int]:
    """``n`` independent integer seeds from ``SeedSequence(seed).spawn(n)``.

    Integers (64-bit) rather than SeedSequences so any model's ``project(seed=...)`` accepts
    them and they can be printed and re-used to repeat one run by itself.

    Examples
    --------
    >>> a = spawn_seeds(7, 3)
    >>> a == spawn_seeds(7, 3), len(set(a)), a[:2] == spawn_seeds(7, 2)
    (True, 3, True)
    """
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return [int(child.generate_state(1, dtype=np.uint64)[0]) for child in ss.spawn(n)]


def totals_by(projection, by: Sequence[str] | str | None = None):
    """Reduce a projection to its draws aggregated by ``by`` (flows dropped) - small to ship back.

    Use as ``reduce=functools.partial(totals_by, by=["need"])``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from senforecast.projection import Projection
    >>> cells = pd.DataFrame({"area": ["N", "S"], "need": ["ASD", "ASD"]})
    >>> p = Projection(np.ones((3, 2, 2), int), [2026, 2027], cells, flows={"joiners": np.ones((3, 2, 2), int)})
    >>> t = totals_by(p, "need")
    >>> t.draws.shape, list(t.flows)
    ((3, 2, 1), [])
    """
    agg = projection.aggregate(by)
    agg.flows = {}
    return agg


def _project_one(model, data: LocalAreaData | None, kwargs: dict, reduce: Callable | None):
    # runs in the worker: load if given a loader, fit if given data, project, reduce before
    # pickling the result back
    if callable(data):
        data = data()
        if not isinstance(data, LocalAreaData):
            model, data = data, None
    if data is not None:
        model = copy.deepcopy(model).fit(data)
    proj = model.project(**kwargs)
    return reduce(proj) if reduce is not None else proj


def _run(tasks: list[tuple], executor: Executor | str | None, max_workers: int | None,
         priority: Sequence[float] | None = None) -> list:
    own = None
    if executor is None:
        workers = max_workers or min(len(tasks), os.cpu_count() or 1)
        executor = own = ProcessPoolExecutor(max_workers=max(1, workers))
    elif executor == "serial":
        executor = SerialExecutor()
    elif not hasattr(executor, "submit"):
        raise SenForecastError(f"executor must be a concurrent.futures.Executor (or 'serial', or None for a "
                               f"local process pool), not {type(executor).__name__}")
    order = range(len(tasks))
    if priority is not None:
        if len(priority) != len(tasks):
            raise SenForecastError(f"priority has {len(priority)} values for {len(tasks)} runs; give one per run")
        # biggest first: the pool is not left waiting on one large run at the end
        order = sorted(order, key=lambda i: -float(priority[i]))
    try:
        futures = {i: executor.submit(_project_one, *tasks[i]) for i in order}
        return [futures[i].result() for i in range(len(tasks))]
    finally:
        if own is not None:
            own.shutdown()


def _is_loader(item) -> bool:
    return callable(item) and not hasattr(item, "project")


def _keys_and_items(items) -> tuple[list | None, list]:
    if isinstance(items, Mapping):
        return list(items.keys()), list(items.values())
    if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
        raise SenForecastError("pass a list or dict of fitted models or LocalAreaData, not a single one")
    return None, list(items)


def project_many(
    models_or_data: Sequence[Any] | Mapping[str, Any],
    *,
    model: Any = None,
    years: int | Sequence[int] = 10,
    n_draws: int = 1000,
    seed: int | np.random.SeedSequence | None = None,
    scenario: Scenario | None = None,
    reduce: Callable | None = None,
    executor: Executor | str | None = None,
    max_workers: int | None = None,
    priority: Sequence[float] | None = None,
    **project_kwargs: Any,
) -> list | dict:
    """Project many authorities, each with its own independent seed stream.

    Parameters
    ----------
    models_or_data : list or dict
        Fitted models (anything with ``project(years=, n_draws=, seed=, scenario=)``),
        :class:`~senforecast.core.data.LocalAreaData`, which are fitted in the worker with a copy
        of ``model``, or loaders: picklable functions of no arguments returning either (e.g.
        ``functools.partial(read_local_area, plans=path, ...)``), called in the worker so
        the data of many authorities never sit in this process together. A dict keeps its
        keys in the result.
    model : estimator, optional
        Unfitted model used for data items (default ``CohortModel()``).
    years, n_draws, scenario, **project_kwargs
        Passed to every ``project`` call.
    seed : int or SeedSequence, optional
        Run ``i`` uses ``spawn_seeds(seed, n)[i]`` (recorded in ``projection.meta["seed"]``),
        so results are identical whatever the executor.
    reduce : callable, optional
        Applied to each projection in the worker; its result is returned instead (must be
        picklable for process pools, e.g. ``functools.partial(totals_by, by="need")``).
    executor : Executor, "serial" or None
        Where runs go. None: a local ``ProcessPoolExecutor`` with ``max_workers`` (default
        the number of CPUs), shut down afterwards. A given executor is left running.
    max_workers : int, optional
        Workers of the default process pool.
    priority : sequence of float, optional
        One value per item (e.g. its number of plans): runs are submitted highest first, so
        a large authority does not start last and keep the pool waiting. Seeds and the order
        of results stay tied to input positions.

    Returns
    -------
    list or dict
        One result per item, in input order (keyed like the input when it is a dict).

    Examples
    --------
    >>> from senforecast.datasets.synthetic import synthetic_national
    >>> las = {d.name: d for d in synthetic_national(2, 200, n_years=3, seed=1)}
    >>> out = project_many(las, years=2, n_draws=20, seed=5, executor="serial",
    ...                    reduce=functools.partial(totals_by, by=None))
    >>> list(out), out["LA001"].draws.shape
    (['LA001', 'LA002'], (20, 2, 1))
    """
    keys, items = _keys_and_items(models_or_data)
    if model is None and any(isinstance(x, LocalAreaData) or _is_loader(x) for x in items):
        model = CohortModel()
    seeds = spawn_seeds(seed, len(items))
    tasks = []
    for item, s in zip(items, seeds):
        kwargs = dict(project_kwargs, years=years, n_draws=n_draws, seed=s)
        if scenario is not None:
            kwargs["scenario"] = scenario
        if isinstance(item, LocalAreaData) or _is_loader(item):
            tasks.append((model, item, kwargs, reduce))
        elif hasattr(item, "project"):
            tasks.append((item, None, kwargs, reduce))
        else:
            raise SenForecastError(f"item {len(tasks)} is a {type(item).__name__}: project_many takes fitted "
                                   "models, LocalAreaData or functions returning one")
    results = _run(tasks, executor, max_workers, priority)
    return dict(zip(keys, results)) if keys is not None else results


def run_scenarios(
    model: Any,
    scenarios: Sequence[Scenario] | Mapping[str, Scenario],
    *,
    years: int | Sequence[int] = 10,
    n_draws: int = 1000,
    seed: int | np.random.SeedSequence | None = None,
    paired: bool = False,
    reduce: Callable | None = None,
    executor: Executor | str | None = None,
    max_workers: int | None = None,
    **project_kwargs: Any,
) -> dict:
    """Project one fitted model under many scenarios (e.g. hundreds of what-ifs) on an executor.

    Parameters
    ----------
    model : fitted model
        Anything with ``project(years=, scenario=, n_draws=, seed=)``.
    scenarios : list or dict of Scenario
        A list is keyed by ``scenario.name`` (names must be unique).
    years, n_draws, **project_kwargs
        Passed to every ``project`` call.
    seed : int or SeedSequence, optional
        Master seed. Scenario ``i`` gets the independent stream ``spawn_seeds(seed, n)[i]``.
    paired : bool
        Use one seed (the first spawned) for every scenario instead: common random numbers,
        so the difference between two scenarios is their effect with less simulation noise
        (as :func:`senforecast.planning.scenario_compare.compare_scenarios` does).
    reduce, executor, max_workers
        As in :func:`project_many`.

    Returns
    -------
    dict
        Scenario name to projection (or to ``reduce(projection)``), in input order.

    Examples
    --------
    >>> from senforecast.datasets.synthetic import synthetic_authority
    >>> from senforecast.models.cohort.model import CohortModel
    >>> m = CohortModel().fit(synthetic_authority(300, n_years=3, seed=0))
    >>> out = run_scenarios(m, [Scenario("base"), Scenario("more", joiner_multiplier=1.5)],
    ...                     years=3, n_draws=50, seed=1, executor="serial")
    >>> bool(out["more"].total()[:, -1].mean() > out["base"].total()[:, -1].mean())
    True
    """
    if isinstance(scenarios, Mapping):
        names, items = list(scenarios.keys()), list(scenarios.values())
    else:
        items = list(scenarios)
        names = [getattr(s, "name", None) for s in items]
    bad = [i for i, s in enumerate(items) if not isinstance(s, Scenario)]
    if bad:
        raise SenForecastError(f"scenarios at positions {bad} are not senforecast.core.scenarios.Scenario objects")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SenForecastError(f"scenario names {dup} are used more than once; give each scenario its own "
                               "name or pass a dict name -> scenario")
    if not hasattr(model, "project"):
        raise SenForecastError(f"run_scenarios needs a fitted model, not a {type(model).__name__}")
    seeds = spawn_seeds(seed, len(items))
    if paired:
        seeds = [seeds[0]] * len(items)
    tasks = [(model, None, dict(project_kwargs, years=years, n_draws=n_draws, seed=s, scenario=sc), reduce)
             for sc, s in zip(items, seeds)]
    return dict(zip(names, _run(tasks, executor, max_workers)))
