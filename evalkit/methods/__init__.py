"""Statistical methods behind notebook 02 and 03: ITS, SPC, survival and power.

Each module is usable on its own: `its` (segmented regression for interrupted time series),
`spc` (XmR and p' charts with NHS Making Data Count rules), `survival` (Kaplan-Meier, log-rank,
Cox) and `power` (minimum detectable effects and data needed).
"""
