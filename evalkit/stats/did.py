"""Difference-in-differences by OLS, with classical or cluster-robust standard errors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import OLS

from evalkit.stats import checks


def did(df: pd.DataFrame, y: str, treated: str, post: str, *, covariates: Sequence[str] = (),
        cluster: str | None = None, by: str | Sequence[str] | None = None,
        conf: float = 0.95) -> pd.DataFrame:
    """Difference-in-differences: OLS of y on treated, post, treated x post and covariates.

    `value` is the treated x post coefficient. Classical OLS standard errors by default;
    cluster-robust (CR1, t with G - 1 df) when `cluster` names the unit column, which panel
    data need. Rows with a missing y, indicator, covariate or cluster are left out (noted).
    Categorical covariates enter as dummies. With `by`, one model per group (a loop: DiD
    groups are few). Returns value, se, lower, upper, p_value, n (rows used) and n_clusters.
    Reference: Card & Krueger, AER 1994;84:772-93, Table 3; Angrist & Pischke (2009) ch. 5.
    """
    where = "did"
    by = checks.as_list(by)
    covariates = list(covariates)
    cols = [y, treated, post, *covariates, *([cluster] if cluster else [])]
    checks.frame(df, [*cols, *by], where, numeric=[y])
    checks.keys(df, by, where)
    checks.conf(conf, where)
    for c in (treated, post):
        vals = df[c].dropna()
        if not vals.isin([0, 1]).all():
            raise ValueError(f"{where}: {c} must be 0/1 or True/False; "
                             + checks.offending_rows(df, df[c].notna() & ~df[c].isin([0, 1]), [c]))
    if by:
        parts = [_did_one(part, y, treated, post, covariates, cluster, conf, where)
                 .assign(**dict(zip(by, key if isinstance(key, tuple) else (key,),
                                    strict=True)))
                 for key, part in df.groupby(by, sort=True, observed=True)]
        res = pd.concat(parts, ignore_index=True)
        return res[[*by, *[c for c in res.columns if c not in by]]]
    return _did_one(df, y, treated, post, covariates, cluster, conf, where)


def _did_one(df: pd.DataFrame, y: str, treated: str, post: str, covariates: list[str],
             cluster: str | None, conf: float, where: str) -> pd.DataFrame:
    """One model on all of `df`: the treated x post coefficient and its interval, one row."""
    cols = [y, treated, post, *covariates, *([cluster] if cluster else [])]
    used = df[cols].dropna()
    dropped = len(df) - len(used)
    t, p = used[treated].astype(float), used[post].astype(float)
    design = pd.DataFrame({"const": 1.0, treated: t, post: p, "did": t * p}, index=used.index)
    if covariates:
        cov = pd.get_dummies(used[covariates], drop_first=True, dtype=float)
        design = design.join(cov)
    if np.linalg.matrix_rank(design.to_numpy()) < design.shape[1]:
        raise ValueError(f"{where}: the design is not full rank; every treated/post cell "
                         "needs rows and covariates must not duplicate the indicators; cells: "
                         f"{used.groupby([treated, post]).size().to_dict()}")
    model = OLS(used[y].astype(float), design)
    if cluster:
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(used[cluster])[0]},
                        use_t=True)
        n_clusters, method = used[cluster].nunique(), "OLS, cluster-robust SE"
    else:
        fit = model.fit()
        n_clusters, method = np.nan, "OLS, classical SE"
    lo, hi = fit.conf_int(alpha=1 - conf).loc["did"]
    note = f"{dropped} row(s) with missing values left out" if dropped else ""
    return pd.DataFrame({"term": [f"{treated}:{post}"], "value": [fit.params["did"]],
                         "se": [fit.bse["did"]], "lower": [lo], "upper": [hi],
                         "p_value": [fit.pvalues["did"]], "n": [len(used)],
                         "n_clusters": [n_clusters], "conf": [conf], "method": [method],
                         "note": [note]})
