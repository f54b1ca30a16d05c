"""The frequentist methods reviewers expect, matched to R metafor: one registry of methods and
their typed results. numpy and scipy only."""
