"""Random-intercept models of students in classes in schools (statsmodels MixedLM), with ICCs."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.regression.mixed_linear_model import MixedLM, VCSpec
from threadpoolctl import threadpool_limits

from psychanalytics.outcomes._models import coefficient_table, covariate_columns
from psychanalytics.outcomes._validate import columns, complete, confidence, numbers_of

RESIDUAL = "residual"
METHODS = ("bfgs", "lbfgs", "cg")


class ConvergenceError(RuntimeError):
    """A model's optimiser did not converge: one message saying what was tried, instead of warnings."""


@dataclass(frozen=True)
class MixedModelResult:
    """Fixed effects, variance components and ICCs of a random-intercept model.

    Attributes
    ----------
    fixed : pandas.DataFrame
        ``term, estimate, se, statistic, p, low, high`` (Wald z tests, as statsmodels).
    variance : pandas.DataFrame
        One row per level and ``residual``: ``level``, ``variance``, ``proportion``
        (of the total variance). A level's proportion is its ICC; two students of
        one class share the school's and the class's, so their correlation is the
        sum of both proportions.
    n : int
        Rows fitted.
    groups : dict
        Level -> number of its units (classes counted within schools).
    levels : tuple of str
        The nesting, outermost first.
    reml : bool
    loglike : float
        The (restricted, when ``reml``) log-likelihood.
    notes : tuple of str
        Distinct optimiser messages of a converged fit: a retried optimiser, a
        variance on the boundary (≈ 0), a Hessian that is not positive definite.
    confidence : float
    """

    fixed: pd.DataFrame
    variance: pd.DataFrame
    n: int
    groups: dict[str, int]
    levels: tuple[str, ...]
    reml: bool
    loglike: float
    notes: tuple[str, ...]
    confidence: float

    @property
    def icc(self) -> dict[str, float]:
        """Level -> intraclass correlation (its share of the total variance)."""
        rows = self.variance[self.variance["level"] != RESIDUAL]
        return dict(zip(rows["level"], rows["proportion"].astype(float), strict=True))


def _nested_components(frame: pd.DataFrame, levels: tuple[str, ...], order: np.ndarray, starts) -> VCSpec:
    """Indicator matrices, per school, of each inner level's units (a class is nested in its school)."""
    names, colnames, mats = [], [], []
    for depth in range(1, len(levels)):
        keys = frame[list(levels[: depth + 1])].iloc[order]
        unit = pd.factorize(pd.MultiIndex.from_frame(keys))[0]
        label = keys[levels[depth]].astype(str).to_numpy()
        group_names, group_mats = [], []
        for start, stop in zip(starts[:-1], starts[1:], strict=True):
            codes, first = np.unique(unit[start:stop], return_index=True)
            indicator = (unit[start:stop, None] == codes[None, :]).astype(float)
            group_mats.append(indicator)
            group_names.append(list(label[start:stop][first]))
        names.append(levels[depth])
        colnames.append(group_names)
        mats.append(group_mats)
    return VCSpec(names, colnames, mats)


def mixed_model(
    frame: pd.DataFrame,
    *,
    outcome: str,
    fixed: tuple[str, ...] = (),
    levels: tuple[str, ...] = ("school",),
    reml: bool = True,
    maxiter: int | None = None,
    ci: float = 0.95,
) -> MixedModelResult:
    """Linear mixed model with a random intercept per school (and per class within school).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per student (or student-wave) with ``outcome``, ``fixed`` and
        ``levels`` columns. Missing values are refused with the column and rows
        named — MixedLM would not drop them (its ``missing="none"``) but fail or
        mislead; choose the rows first.
    outcome : str
        Response column.
    fixed : tuple of str
        Fixed-effect columns after the intercept; text columns enter as
        indicators of every level but the first (sorted), booleans as 0/1.
    levels : tuple of str
        Grouping columns, outermost first: ``("school",)`` or ``("school",
        "class")``. Each inner level is nested in the ones before it, so class
        ``1`` of two schools are two classes.
    reml : bool
        Restricted maximum likelihood (as lme4's default) or ML.
    maxiter : int, optional
        Iteration limit of each optimiser (statsmodels' default otherwise).
    ci : float
        Confidence level of the fixed effects.

    Returns
    -------
    MixedModelResult

    Raises
    ------
    ConvergenceError
        When statsmodels' optimisers (BFGS, then L-BFGS, then CG) all stop
        without converging: one message with the sizes and what to try, instead
        of statsmodels' repeated ``ConvergenceWarning``.

    Notes
    -----
    ``y_ij = x_ij β + u_school + v_class(school) + e_ij`` with independent normal
    ``u``, ``v``, ``e``: statsmodels ``MixedLM`` with a random intercept per
    school (``exog_re``) and the classes as a variance component inside each
    school (``exog_vc``). ICC of a level = its variance / the sum of all
    variances (as R ``performance::icc(by_group = TRUE)``). Checked against R
    lme4 1.1 ``lmer(y ~ x + (1 | school) + (1 | school:class))`` on a stored
    dataset: fixed effects, variances, ICCs and the (RE)ML log-likelihood
    (``tests/reference/outcomes/mixed_lme4.json``); the fixed-effect SEs are
    statsmodels' (inverse Hessian of all parameters), 0.2% from lme4's
    ``(X'V⁻¹X)⁻¹`` there. The cost grows with the rows and the number of
    schools (the groups): 100,000 students in 40 schools and 1,000 classes
    take about 17 s on two cores (``benchmarks/bench_outcomes.py``; lme4 6 s).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from psychanalytics.outcomes import mixed_model
    >>> rng = np.random.default_rng(1)
    >>> school = np.repeat(np.arange(12), 20)
    >>> frame = pd.DataFrame({"school": school, "pre": rng.normal(10, 3, 240)})
    >>> frame["post"] = 2 + 0.6 * frame["pre"] + rng.normal(0, 1, 12)[school] + rng.normal(0, 2, 240)
    >>> res = mixed_model(frame, outcome="post", fixed=("pre",))
    >>> res.fixed["term"].tolist(), res.groups
    (['const', 'pre'], {'school': 12})
    >>> 0 < res.icc["school"] < 1
    True
    """
    level = confidence(ci)
    levels = tuple(levels)
    if not levels:
        raise ValueError("mixed_model: levels needs at least one grouping column, e.g. ('school',)")
    needed = [outcome, *fixed, *levels]
    columns(frame, needed, where="mixed_model")
    complete(frame, needed, where="mixed_model")
    groups, _ = pd.factorize(frame[levels[0]], sort=True)
    order = np.argsort(groups, kind="stable")
    starts = np.searchsorted(groups[order], np.arange(groups.max() + 2))
    design = covariate_columns(frame, fixed).iloc[order]
    design.insert(0, "const", 1.0)
    y = numbers_of(frame[outcome], outcome)[order]
    model = MixedLM(
        y,
        design.reset_index(drop=True),
        groups[order],
        exog_re=np.ones((len(y), 1)),
        exog_vc=_nested_components(frame, levels, order, starts),
    )
    options = {} if maxiter is None else {"maxiter": maxiter}
    # MixedLM works school by school on small matrices, where BLAS threads only add synchronisation
    # (DESIGN.md, decision 28: 100,000 students in 40 schools, 139 s threaded, 25 s on one thread)
    with warnings.catch_warnings(record=True) as caught, threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("always")
        fitted = model.fit(reml=reml, method=list(METHODS), **options)
    messages = tuple(dict.fromkeys(str(w.message) for w in caught))
    counts = {
        name: len(frame[list(levels[: depth + 1])].drop_duplicates()) for depth, name in enumerate(levels)
    }
    if not fitted.converged:
        raise ConvergenceError(
            f"mixed_model did not converge: {len(y)} rows in {counts}; optimisers {', '.join(METHODS)} "
            f"all stopped ({'; '.join(messages)}). Try a larger maxiter, centring or rescaling the "
            "covariates, or fewer levels; very many groups fit better in R lme4"
        )
    variances = [float(np.asarray(fitted.cov_re)[0, 0]), *map(float, fitted.vcomp), float(fitted.scale)]
    total = sum(variances)
    variance = pd.DataFrame(
        {
            "level": [*levels, RESIDUAL],
            "variance": variances,
            "proportion": [v / total for v in variances],
        }
    )
    return MixedModelResult(
        fixed=coefficient_table(fitted, level).iloc[: design.shape[1]],
        variance=variance,
        n=len(y),
        groups=counts,
        levels=levels,
        reml=reml,
        loglike=float(fitted.llf),
        notes=messages,
        confidence=level,
    )
