"""The model, independent of any engine: its description, priors, scales and moderators."""
