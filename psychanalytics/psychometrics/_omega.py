"""McDonald's omega (hierarchical and total) from a Schmid-Leiman transformation, as ``psych::omega``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize
from statsmodels.multivariate.factor_rotation import rotate_factors

from psychanalytics.psychometrics._validate import item_frame

_PSI_BOUNDS = (0.005, 1.0)  # psych's bounds on the uniquenesses of a correlation matrix


@dataclass(frozen=True)
class OmegaResult:
    """Omega coefficients and the Schmid-Leiman solution behind them.

    Attributes
    ----------
    omega_h : float
        Omega hierarchical: general-factor variance over total variance.
    omega_t : float
        Omega total: common variance (general + group factors) over total variance.
    alpha : float
        Standardised alpha of the same correlation matrix (psych's ``Alpha``).
    loadings : pandas.DataFrame
        Schmid-Leiman loadings: ``g``, ``F1*`` … ``Fk*``, plus the communality ``h2``
        and uniqueness ``u2`` (as psych's ``schmid$sl``).
    n_factors : int
        Number of group factors.
    """

    omega_h: float
    omega_t: float
    alpha: float
    loadings: pd.DataFrame
    n_factors: int


def _as_correlation(data) -> pd.DataFrame:
    """The correlation matrix ``data`` is, or the pairwise Pearson correlations of item responses."""
    if isinstance(data, pd.DataFrame):
        is_matrix = data.shape[0] == data.shape[1] and list(data.index) == list(data.columns)
    else:
        array = np.asarray(data, dtype=float)
        is_matrix = (
            array.ndim == 2
            and array.shape[0] == array.shape[1]
            and np.allclose(np.diag(array), 1.0)
            and np.allclose(array, array.T)
        )
    if not is_matrix:
        return item_frame(data).corr()
    r = pd.DataFrame(data, dtype=float)
    values = r.to_numpy()
    if np.isnan(values).any():
        raise ValueError("correlation matrix contains NaN")
    if not np.allclose(values, values.T, atol=1e-8):
        raise ValueError("correlation matrix is not symmetric")
    if not np.allclose(np.diag(values), 1.0, atol=1e-8):
        raise ValueError("correlation matrix must have a unit diagonal")
    return r


def _top_loadings(reduced: np.ndarray, n_factors: int) -> np.ndarray:
    """Loadings of the ``n_factors`` largest eigenvalues of a reduced matrix (negative ones count as 0)."""
    values, vectors = np.linalg.eigh(reduced)
    values, vectors = values[::-1][:n_factors], vectors[:, ::-1][:, :n_factors]
    return vectors * np.sqrt(np.clip(values, 0, None))


def _minres(r: np.ndarray, n_factors: int) -> np.ndarray:
    """Unrotated minimum-residual (minres) loadings of a correlation matrix, as ``psych::fa(fm="minres")``.

    Written by hand because no maintained Python library offers minres: statsmodels'
    ``Factor`` fits principal axes and maximum likelihood only, and factor_analyzer's
    ``FactorAnalyzer.fit`` fails with scikit-learn >= 1.8 (DESIGN.md, decision 29).

    Minres chooses the loadings ``L`` whose ``L L'`` is closest to the off-diagonal
    correlations (Harman & Jones 1966). For uniquenesses ``psi`` the best ``L`` comes
    from the ``n_factors`` largest eigenvalues of the reduced matrix ``R - diag(psi)``;
    the residual ``F(psi) = 1/2 ||R - diag(psi) - L L'||^2`` is half the sum of the
    squared remaining eigenvalues, with gradient ``diag(L L' + diag(psi) - R)`` (psych's
    ``FAgr.minres``). At its minimum the diagonal residual is zero, so ``F`` is then the
    off-diagonal sum of squares that minres minimises. As psych: start at ``1 - SMC``,
    search with L-BFGS-B within ``0.005 <= psi <= 1``. Validated against psych 2.2.9
    (``tests/reference/psychometrics/minres_psych.json``).
    """
    p = r.shape[0]
    smc = 1 - 1 / np.diag(np.linalg.pinv(r, hermitian=True))

    def residual(psi: np.ndarray) -> tuple[float, np.ndarray]:
        reduced = r - np.diag(psi)
        loadings = _top_loadings(reduced, n_factors)
        rest = reduced - loadings @ loadings.T
        return 0.5 * float((rest**2).sum()), -np.diag(rest)

    found = optimize.minimize(
        residual,
        np.clip(1 - smc, _PSI_BOUNDS[0], _PSI_BOUNDS[1]),
        jac=True,
        method="L-BFGS-B",
        bounds=[_PSI_BOUNDS] * p,
        options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 1_000},
    )
    if not found.success:
        raise RuntimeError(
            f"minres with {n_factors} factor(s) of {p} variables did not converge: {found.message}"
        )
    return _top_loadings(r - np.diag(found.x), n_factors)


def _varimax(loadings: np.ndarray) -> np.ndarray:
    """Varimax with Kaiser normalisation (R's ``stats::varimax``), psych's start for the oblique rotation."""
    norms = np.sqrt((loadings**2).sum(axis=1, keepdims=True))
    rotated, _ = rotate_factors(loadings / norms, "varimax")
    return rotated * norms


def _oblimin(loadings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Oblimin (gamma 0) pattern and factor correlations, signs and order as psych's ``fa``.

    statsmodels' gradient-projection rotation (Bernaards & Jennrich 2005), the algorithm of
    R's GPArotation that psych calls; the factor correlations are ``T' T``.
    """
    pattern, rotation = rotate_factors(loadings, "oblimin", 0, "oblique")
    phi = rotation.T @ rotation
    signs = np.where(pattern.sum(axis=0) < 0, -1.0, 1.0)
    pattern = pattern * signs
    phi = phi * np.outer(signs, signs)
    order = np.argsort(-(pattern**2).sum(axis=0), kind="stable")
    return pattern[:, order], phi[np.ix_(order, order)]


def omega(data, *, n_factors: int = 3) -> OmegaResult:
    """McDonald's omega_h and omega_t by a Schmid-Leiman transformation (psych's ``omega``).

    Parameters
    ----------
    data : pandas.DataFrame or array-like
        Either item responses (one row per respondent; Pearson correlations with
        pairwise deletion, as ``psych::omega``) or a correlation matrix (square,
        symmetric, unit diagonal; a DataFrame is read as a matrix when its index
        equals its columns).
    n_factors : int
        Number of group factors (at least 3, where omega_h is uniquely defined).

    Returns
    -------
    OmegaResult

    Notes
    -----
    Steps, as psych's ``schmid`` inside ``omega(m, nfactors, fm="minres",
    rotate="oblimin")``: a minres factor analysis (written by hand with scipy, see
    ``_minres``); a varimax rotation (Kaiser-normalised, as ``stats::varimax``) as
    the start of an **oblimin** rotation (gamma 0, oblique), both by statsmodels'
    ``rotate_factors`` — the start matters on nearly one-dimensional scales, where
    oblimin has several optima; a one-factor minres analysis of the factor
    correlations gives each factor's loading ``g`` on the general factor; items
    load ``P @ g`` on the general factor and ``P * sqrt(1 - g**2)`` on the group
    factors. Items with a negative general loading are reversed (psych's
    ``flip=TRUE``). ``h2`` is the communality of the minres solution and
    ``u2 = 1 - h2``. With ``V`` the sum of the (flipped) correlation matrix,
    ``omega_h = (sum g_i)^2 / V`` and ``omega_t = 1 - sum(u2) / V``.

    Validated against R psych's printed output of ``omega()`` on the Harman (1976)
    24-test correlation matrix, to 5 decimals (omega_h 0.64349, omega_t 0.92891,
    alpha 0.91188; ``tests/reference/psychometrics/omega_harman74.json``), and on
    ``psych::Thurstone`` to psych's 2 printed decimals (``omega_thurstone.json``); on
    both to 1e-6, and on a nearly one-dimensional GAD-7 matrix to 1e-3, against
    psych 2.2.9's unrounded values (``minres_psych.json``, made by ``make_minres_psych.R``).

    Examples
    --------
    >>> import numpy as np
    >>> from psychanalytics.psychometrics import omega
    >>> g = np.array([.8, .7, .6, .7, .6, .5, .6, .5, .4])
    >>> f = np.kron(np.eye(3), np.ones((3, 1))) * np.array([.5, .4, .3, .5, .4, .3, .5, .4, .3])[:, None]
    >>> r = np.outer(g, g) + f @ f.T
    >>> np.fill_diagonal(r, 1.0)
    >>> res = omega(r)
    >>> round(res.omega_h, 2), round(res.omega_t, 2)  # population: 29.16 / 37.62 = 0.775, 0.890
    (0.77, 0.89)
    """
    if n_factors < 3:
        raise ValueError(f"n_factors must be at least 3 for a Schmid-Leiman omega_h, got {n_factors}")
    r = _as_correlation(data)
    p = r.shape[0]
    if p <= n_factors:
        raise ValueError(f"{p} variables cannot carry {n_factors} factors")
    values = r.to_numpy()
    unrotated = _minres(values, n_factors)
    pattern, phi = _oblimin(_varimax(unrotated))
    g_of_factors = _minres(phi, 1)[:, 0]
    if g_of_factors.sum() < 0:
        g_of_factors = -g_of_factors
    general = pattern @ g_of_factors
    group = pattern * np.sqrt(np.clip(1 - g_of_factors**2, 0, None))
    key = np.where(general < 0, -1.0, 1.0)
    general = general * key
    group = group * key[:, None]
    h2 = (unrotated**2).sum(axis=1)
    u2 = 1 - h2
    flipped = values * np.outer(key, key)
    total = flipped.sum()
    omega_h = general.sum() ** 2 / total
    omega_t = 1 - u2.sum() / total
    alpha = p / (p - 1) * (1 - np.trace(flipped) / total)
    loadings = pd.DataFrame(group, index=r.columns, columns=[f"F{i + 1}*" for i in range(n_factors)])
    loadings.insert(0, "g", general)
    loadings["h2"] = h2
    loadings["u2"] = u2
    return OmegaResult(float(omega_h), float(omega_t), float(alpha), loadings, n_factors)
