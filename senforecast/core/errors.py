"""Error and warning types raised by senforecast.

Every problem found in an input names where it is (file, row, column) and what was
expected, so an analyst can fix the file without reading a traceback.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable


class SenForecastError(Exception):
    """Base class of every error senforecast raises on purpose.

    Catch it to handle any problem senforecast reports (bad inputs, misuse of a model,
    a scenario that cannot be applied) while letting genuine bugs through.

    Examples
    --------
    >>> try:
    ...     raise ModelError("call fit() before project()")
    ... except SenForecastError as err:
    ...     print(type(err).__name__, "-", err)
    ModelError - call fit() before project()
    """


class ModelError(SenForecastError):
    """A model was used wrongly (e.g. ``project`` before ``fit``) or cannot be fitted.

    Examples
    --------
    >>> from senforecast.models.cohort.model import CohortModel
    >>> try:
    ...     CohortModel().project(years=3)
    ... except ModelError:
    ...     print("not fitted yet")
    not fitted yet
    """


class NotFittedError(ModelError, ValueError, AttributeError):
    """A model was asked to project (or describe its fit) before ``fit``.

    Also a ``ValueError`` and an ``AttributeError``, as scikit-learn's is, so code written
    for either keeps working.

    Examples
    --------
    >>> from senforecast.models.baselines import LastValue
    >>> try:
    ...     LastValue().project(years=2)
    ... except NotFittedError as err:
    ...     print(err)
    This LastValue is not fitted yet: call .fit(data) first, then .project(...).
    """


@dataclass(frozen=True)
class Problem:
    """One problem found in an input table.

    Parameters
    ----------
    file : str
        File (or table name) the problem is in.
    row : int or None
        1-based row number as the analyst sees it in a spreadsheet (header is row 1),
        or None when the problem concerns the whole file or a column.
    column : str or None
        Column name, or None for whole-row / whole-file problems.
    message : str
        What is wrong and what was expected.
    value : object, optional
        The offending value.

    Examples
    --------
    >>> str(Problem("plans.csv", 7, "ncy", "expected an integer from -5 to 25", "Y7"))
    "plans.csv, row 7, column 'ncy': expected an integer from -5 to 25 (found 'Y7')"
    """

    file: str
    row: int | None
    column: str | None
    message: str
    value: object = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        found = "" if self.value is None else f" (found {self.value!r})"
        return f"{', '.join(where)}: {self.message}{found}"


class InputValidationError(SenForecastError, ValueError):
    """An input file has problems that must be fixed before it can be used.

    Holds every problem found (not just the first) in ``problems``.

    Examples
    --------
    >>> err = InputValidationError([Problem("p.csv", 2, "need", "unknown need code", "ZZZ")])
    >>> len(err.problems)
    1
    """

    def __init__(self, problems: Iterable[Problem], max_shown: int = 20):
        self.problems: list[Problem] = list(problems)
        shown = self.problems[:max_shown]
        lines = [f"{len(self.problems)} problem(s) found in the input:"]
        lines += [f"  - {p}" for p in shown]
        if len(self.problems) > max_shown:
            lines.append(f"  ... and {len(self.problems) - max_shown} more (see .problems)")
        super().__init__("\n".join(lines))


class InputWarning(UserWarning):
    """A recoverable problem in an input (e.g. suppressed cells read as missing).

    Issued with :func:`warnings.warn`; filter on it to silence or collect input notes.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("census.csv, row 3: suppressed count read as missing", InputWarning)
    >>> [issubclass(w.category, InputWarning) for w in caught]
    [True]
    """


@dataclass
class ValidationReport:
    """Problems and warnings collected while reading and checking inputs.

    Examples
    --------
    >>> rep = ValidationReport()
    >>> rep.warn(Problem("census.csv", 3, "count", "suppressed value read as missing", "c"))
    >>> len(rep.warnings)
    1
    """

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def error(self, problem: Problem) -> None:
        self.errors.append(problem)

    def warn(self, problem: Problem) -> None:
        self.warnings.append(problem)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def raise_if_errors(self) -> None:
        if self.errors:
            raise InputValidationError(self.errors)

    def extend(self, other: "ValidationReport") -> None:
        self.errors += other.errors
        self.warnings += other.warnings
        for k, v in other.counts.items():
            self.count(k, v)
