"""Binomial GLM (logistic regression) on aggregated cells, with a sparse design.

`odds_ratios` takes one row per combination of factors with `people` (trials) and `dp` (events,
e.g. people with a Direct Payment) and returns adjusted odds ratios with Wald intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import linalg, sparse
from scipy.special import expit, logit
from scipy.stats import norm

ODDS_COLUMNS = ["factor", "group", "reference", "value", "lower", "upper", "conf", "p_value",
                "people", "dp", "note"]
#: People with and without a DP a level needs before its odds ratio is shown: with fewer, the
#: Wald interval is absurd (Cantonese 10.5, 95% CI 1.1 to 100, issue 17).
MIN_EACH = 5


def drop_separated(cells: pd.DataFrame,
                    factors: list[str]) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """Remove levels in which nobody or everybody has a DP (their odds ratio is infinite).

    Their cells then fit perfectly and carry no information about the other terms, so dropping
    them gives the same estimates as the maximum-likelihood limit. A factor's only level goes
    too: then nobody (or everybody) left has a DP and no model can be fitted (a council with
    no Direct Payments). Returns the cells left and (factor, level, note).
    """
    notes: list[tuple[str, str, str]] = []
    while True:
        dropped = False
        for f in factors:
            tot = cells.groupby(f, observed=True)[["dp", "people"]].sum()
            bad = tot.index[(tot["dp"] == 0) | (tot["dp"] == tot["people"])]
            if len(bad):
                for lvl in bad:
                    who = "nobody" if tot.loc[lvl, "dp"] == 0 else "everybody"
                    notes.append((f, str(lvl), f"{who} in this group has a DP, so no odds ratio "
                                  "can be estimated"))
                cells = cells[~cells[f].isin(bad)]
                dropped = True
        if not dropped:
            return cells, notes


def dummies(cells: pd.DataFrame, factors: list[str],
            refs: dict[str, str]) -> tuple[sparse.csr_matrix, list[tuple[str, str]]]:
    """Sparse treatment-coded design: a constant, then one column per non-reference level.

    Returns the matrix and (factor, level) for each column after the constant.
    """
    rows, cols, names = [], [np.zeros(len(cells), dtype=np.int64)], []
    for f in factors:
        values = cells[f].astype(str).to_numpy(object)
        levels = sorted(set(pd.unique(values)) - {str(refs[f])})
        code = pd.Index(levels).get_indexer(values)
        hit = np.flatnonzero(code >= 0)
        rows.append(hit)
        cols.append(1 + len(names) + code[hit])
        names += [(f, lvl) for lvl in levels]
    rows.insert(0, np.arange(len(cells)))
    r, c = np.concatenate(rows), np.concatenate(cols)
    X = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(cells), 1 + len(names)))
    return X, names


def fit_binomial(X: sparse.csr_matrix, dp: np.ndarray, people: np.ndarray,
                 tol: float = 1e-10, max_iter: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Logistic (binomial GLM) coefficients and their covariance, by iteratively reweighted
    least squares on a sparse design.

    statsmodels' GLM needs a dense design: with a term per council (150 dummies over ~60,000
    cells at national scale) each of its least-squares steps takes seconds. Here X'WX is a sparse
    product, so the same Fisher scoring (the estimates and Wald covariance statsmodels reports;
    tests check this against statsmodels) costs milliseconds. Collinear columns get the
    minimum-norm solution, as statsmodels' pinv does.
    """
    beta = np.zeros(X.shape[1])
    beta[0] = logit(dp.sum() / people.sum())
    for _ in range(max_iter):
        eta = X @ beta
        mu = expit(eta)
        w = np.maximum(people * mu * (1 - mu), 1e-12)
        z = eta + (dp - people * mu) / w
        xtw = X.T.multiply(w).tocsr()
        info = (xtw @ X).toarray()
        new = solve(info, xtw @ z)
        done = np.max(np.abs(new - beta)) < tol
        beta = new
        if done:
            break
    mu = expit(X @ beta)
    info = (X.T.multiply(people * mu * (1 - mu)).tocsr() @ X).toarray()
    return beta, np.linalg.pinv(info, hermitian=True)


def solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve a symmetric positive (semi)definite system; least squares when singular."""
    try:
        return linalg.solve(a, b, assume_a="pos")
    except (linalg.LinAlgError, ValueError):
        return np.linalg.lstsq(a, b, rcond=None)[0]


def odds_ratios(cells: pd.DataFrame, factors: list[str], references: dict[str, str],
                conf: float = 0.95) -> pd.DataFrame:
    """Adjusted odds ratios of having a DP from a binomial GLM on aggregated cells.

    `cells` has one row per combination of `factors` with `people` and `dp`. Each factor enters
    as treatment-coded dummies against `references[factor]` (default: its largest level).
    Returns one row per non-reference level: factor, group, reference, value (odds ratio),
    lower, upper (Wald, log scale), conf, p_value, people, dp, note. Factors with one level are
    left out; levels with no variation in DP, or fewer than MIN_EACH people with or without a
    DP, are reported with a note and no estimate (they stay in the model).
    """
    cells, notes = drop_separated(cells, factors)
    used = [f for f in factors if cells[f].nunique() > 1]
    sizes = {f: cells.groupby(f, observed=True)[["people", "dp"]].sum() for f in used}
    refs = {f: references.get(f) if references.get(f) in sizes[f].index
            else sizes[f]["people"].idxmax() for f in used}
    rows = []
    if len(cells):
        X, names = dummies(cells, used, refs)
        beta, cov = fit_binomial(X, cells["dp"].to_numpy(float), cells["people"].to_numpy(float))
        se = np.sqrt(np.diag(cov))[1:]
        z = norm.ppf(0.5 + conf / 2)
        for (f, lvl), b, s_ in zip(names, beta[1:], se, strict=True):
            n = sizes[f].loc[sizes[f].index.astype(str) == lvl].sum()
            few = min(n["dp"], n["people"] - n["dp"]) < MIN_EACH
            est = (np.nan,) * 4 if few else (np.exp(b), np.exp(b - z * s_), np.exp(b + z * s_),
                                              2 * norm.sf(abs(b / s_)))
            rows.append({"factor": f, "group": lvl, "reference": refs[f], "value": est[0],
                         "lower": est[1], "upper": est[2], "conf": conf, "p_value": est[3],
                         "people": int(n["people"]), "dp": int(n["dp"]),
                         "note": f"too few to estimate: fewer than {MIN_EACH} people with or "
                                 "without a DP" if few else ""})
    for f, lvl, note in notes:
        rows.append({"factor": f, "group": lvl, "reference": refs.get(f, ""),
                     "value": np.nan, "lower": np.nan, "upper": np.nan, "conf": conf,
                     "p_value": np.nan, "people": np.nan, "dp": np.nan, "note": note})
    return pd.DataFrame(rows, columns=ODDS_COLUMNS)
