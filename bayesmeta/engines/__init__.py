"""Engines that turn a model description into a posterior: PyMC, the cached kernels, nutpie
sampling with convergence checks, and the exact quadrature of the normal-normal model."""
