"""McDonald's omega (hierarchical and total) from a Schmid-Leiman transformation, as ``psych::omega``."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from factor_analyzer import FactorAnalyzer, Rotator

from psychanalytics.psychometrics._validate import item_frame


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
        Schmid-Leiman loadings: ``g``, ``F1*`` … ``Fk*``, plus ``h2``, ``u2``.
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


def _minres(r: np.ndarray, n_factors: int) -> np.ndarray:
    """Unrotated minres loadings of a correlation matrix (SMC starting values, as psych).

    ``FactorAnalyzer.fit`` cannot be used: with scikit-learn >= 1.8 it passes the
    removed ``force_all_finite`` argument to ``check_array``, and it does not
    reorder ``phi_`` when it sorts the rotated factors. Its minres step is called
    directly and the rotation done by the public :class:`Rotator`.
    """
    fa = FactorAnalyzer(n_factors=n_factors, rotation=None, method="minres", is_corr_matrix=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fa._fit_factor_analysis(r.copy())


def _oblimin(loadings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Oblimin (gamma 0) pattern and factor correlations, signs and order as psych's ``fa``."""
    rotator = Rotator(method="oblimin")
    pattern = rotator.fit_transform(loadings)
    phi = rotator.phi_
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
    Steps, as in ``psych::omega(m, nfactors, fm="minres", rotate="oblimin")``:
    a minres factor analysis with **oblimin** rotation (factor_analyzer, rotation
    set explicitly: its default is promax); a one-factor minres analysis of the
    factor correlations gives each factor's loading on ``g``; items load
    ``P @ g`` on the general factor and ``P * sqrt(1 - g**2)`` on the group
    factors. Items with a negative general loading are reversed (psych's
    ``flip=TRUE``). With ``V`` the sum of the (flipped) correlation matrix,
    ``omega_h = (sum g_i)^2 / V`` and ``omega_t = 1 - sum(u2) / V``.

    Validated against R psych's printed output of ``omega()`` on the Harman (1976)
    24-test correlation matrix, to 5 decimals (omega_h 0.64349, omega_t 0.92891,
    alpha 0.91188; ``tests/reference/psychometrics/omega_harman74.json``), and on
    ``psych::Thurstone`` to psych's 2 printed decimals (``omega_thurstone.json``).

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
    pattern, phi = _oblimin(_minres(values, n_factors))
    g_of_factors = _minres(phi, 1)[:, 0]
    if g_of_factors.sum() < 0:
        g_of_factors = -g_of_factors
    general = pattern @ g_of_factors
    group = pattern * np.sqrt(np.clip(1 - g_of_factors**2, 0, None))
    key = np.where(general < 0, -1.0, 1.0)
    general = general * key
    group = group * key[:, None]
    h2 = general**2 + (group**2).sum(axis=1)
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
