// NICE DSU TSD2 (Dias et al. 2011, updated 2016), program 1(c) (random effects) and 1(b)
// (fixed effect, fe = 1): binomial likelihood, logit link, study baselines mu_i, basic
// parameters d_k against treatment 1 (d_1 = 0), shared heterogeneity tau, multi-arm trials
// with correlated effects (covariance tau^2 / 2). Written non-centred: the a - 1 effects of an
// a-arm study are (d[t_k] - d[t_b]) + tau * L z, with L the Cholesky factor of the matrix with
// 1 on the diagonal and 1/2 elsewhere (the same distribution as TSD2's conditional form).
// Arms are in long format, each study's arms contiguous, its baseline arm (the lowest
// treatment index) first.
data {
  int<lower=1> N;                 // arms
  int<lower=1> S;                 // studies
  int<lower=2> T;                 // treatments
  int<lower=1> start[S];    // first arm of each study (its baseline)
  int<lower=2> na[S];       // arms of each study
  int<lower=1, upper=T> trt[N];
  int<lower=0> r[N];
  int<lower=1> n[N];
  int<lower=0, upper=1> fe;
  real<lower=0> mu_sd;            // mu_i ~ N(0, mu_sd^2)
  real<lower=0> d_sd;             // d_k ~ N(0, d_sd^2)
  int<lower=0, upper=1> tau_half_normal;  // 1: tau ~ HalfNormal(tau_scale); 0: U(0, tau_scale)
  real<lower=0> tau_scale;
  real<lower=0> tau_upper;        // the bound of tau (tau_scale for the uniform prior)
}
transformed data {
  int A = max(na) - 1;
  matrix[A, A] L;
  for (j in 1:A) for (k in 1:A) L[j, k] = j == k ? 1.0 : 0.5;
  L = cholesky_decompose(L);
}
parameters {
  vector[S] mu;
  vector[T - 1] d_raw;
  real<lower=0, upper=tau_upper> tau_p[1 - fe];
  vector[(N - S) * (1 - fe)] z;
}
transformed parameters {
  vector[T] d;
  real tau;
  vector[N] logit_p;
  d[1] = 0;
  d[2:T] = d_raw;
  tau = fe ? 0 : tau_p[1];
  {
    int c = 0;
    for (i in 1:S) {
      int b = start[i];
      logit_p[b] = mu[i];
      for (k in 1:(na[i] - 1)) {
        real delta = d[trt[b + k]] - d[trt[b]];
        if (!fe) {
          real s = 0;
          for (j in 1:k) s += L[k, j] * z[c + j];
          delta += tau * s;
        }
        logit_p[b + k] = mu[i] + delta;
      }
      c += na[i] - 1;
    }
  }
}
model {
  mu ~ normal(0, mu_sd);
  d_raw ~ normal(0, d_sd);
  if (!fe) {
    if (tau_half_normal) tau_p ~ normal(0, tau_scale);
    else tau_p ~ uniform(0, tau_scale);
    z ~ std_normal();
  }
  r ~ binomial_logit(n, logit_p);
}
generated quantities {
  vector[N] rhat = inv_logit(logit_p) .* to_vector(n);
  real resdev = 0;
  vector[T] d_new;    // predictive effect against treatment 1 in a new study
  for (a in 1:N) {
    real dv = 2 * ((r[a] > 0 ? r[a] * log(r[a] / rhat[a]) : 0)
                   + (n[a] - r[a] > 0 ? (n[a] - r[a]) * log((n[a] - r[a]) / (n[a] - rhat[a])) : 0));
    resdev += dv;
  }
  for (k in 1:T) d_new[k] = d[k] + (k == 1 ? 0 : tau * normal_rng(0, 1));
}
