"""R's ``uniroot`` root finder (Brent's zeroin), step for step.

metafor finds the Paule-Mandel tau^2 and the Q-profile confidence limits with ``uniroot`` at
its default tolerance (``.Machine$double.eps^0.25``, about 1.2e-4), so its answers sit up to
that far from the exact root. Reproducing the same iterations reproduces metafor's numbers to
machine precision, which a tighter root finder would not. Translated from R's
``src/library/stats/src/zeroin.c`` (``R_zeroin2``; Brent 1973, "Algorithms for Minimization
without Derivatives", ch. 4).
"""

from __future__ import annotations

from collections.abc import Callable

EPS = 2.220446049250313e-16
R_TOL = EPS**0.25


def uniroot(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    *,
    tol: float = R_TOL,
    maxiter: int = 1000,
) -> float:
    """A root of ``f`` in ``[lower, upper]`` as R ``uniroot(f, c(lower, upper), tol=tol)``.

    Raises
    ------
    ValueError
        If ``f`` has the same sign at both ends, or no convergence within ``maxiter``.
    """
    a, b = lower, upper
    fa, fb = f(a), f(b)
    if fa * fb > 0:
        raise ValueError("f() values at end points not of opposite sign")
    if fa == 0:
        return a
    if fb == 0:
        return b
    c, fc = a, fa
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * EPS * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            new_step = _interpolate(a, b, c, fa, fb, fc, new_step, prev_step, tol_act)
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    raise ValueError("uniroot did not converge")


def _interpolate(a, b, c, fa, fb, fc, bisect, prev_step, tol_act) -> float:
    """Secant or inverse quadratic step if it falls inside [b, c] and shrinks fast enough."""
    cb = c - b
    if a == c:
        t1 = fb / fa
        p, q = cb * t1, 1.0 - t1
    else:
        q, t1, t2 = fa / fc, fb / fc, fb / fa
        p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
        q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
    if p > 0:
        q = -q
    else:
        p = -p
    if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
        return p / q
    return bisect
