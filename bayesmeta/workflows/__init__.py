"""Whole analyses: one meta-analysis, the shared request path of fit and run, random- vs
common-effect comparison, prior sensitivity, batches and simulation studies."""
