// Arm-based binomial-logit network meta-analysis (NICE DSU TSD2 program 1(c), Dias et al. 2011/2016)
// written generally so one program fits the consistency model, the unrelated mean effects (UME)
// model and each node-split (Dias et al. 2010): every non-baseline arm j of study i has the
// relative effect delta_ij (log OR against the study's baseline arm) with mean X[row] * beta,
// where the design row X says which basic parameters (consistency: d_t - d_b), which comparison
// parameter (UME) or which direct parameter (node-split) it is.
// Random effects (re = 1): delta_i ~ MVN(X_i beta, tau^2 * S), S = 1 on the diagonal and 1/2
// off it (the multi-arm correlation), written as X_i beta + tau * chol(S) * z_i. re = 0: fixed.
// Priors as TSD2: study baselines mu_i ~ N(0, 100^2), beta ~ N(0, 100^2), tau ~ U(0, 5).
data {
  int<lower=1> N_arm;
  int<lower=1> N_study;
  int<lower=1> N_c;                      // non-baseline arms (contrasts)
  int<lower=1> P;                        // mean parameters
  int<lower=0, upper=1> re;
  int<lower=0> r[N_arm];
  int<lower=1> n[N_arm];
  int<lower=1, upper=N_study> study[N_arm];
  int<lower=0, upper=N_c> arm_c[N_arm];  // 0 for a baseline arm, else its contrast index
  matrix[N_c, P] X;
  int<lower=1> c_start[N_study];         // first contrast of each study (contrasts grouped)
  int<lower=1> c_len[N_study];           // number of non-baseline arms of each study
  int<lower=1> M;                        // max c_len
}
transformed data {
  matrix[M, M] S = rep_matrix(0.5, M, M);
  matrix[M, M] L;
  for (m in 1:M) S[m, m] = 1;
  L = cholesky_decompose(S); // its leading blocks are the smaller studies' factors
}
parameters {
  vector[N_study] mu;
  vector[P] beta;
  real<lower=0, upper=5> tau[re];
  vector[re == 1 ? N_c : 0] z;
}
transformed parameters {
  vector[N_c] delta = X * beta;
  vector[N_arm] eta;
  if (re == 1) {
    for (i in 1:N_study) {
      int s = c_start[i];
      int m = c_len[i];
      delta[s:(s + m - 1)] += tau[1] * (L[1:m, 1:m] * z[s:(s + m - 1)]);
    }
  }
  for (a in 1:N_arm) eta[a] = mu[study[a]] + (arm_c[a] > 0 ? delta[arm_c[a]] : 0);
}
model {
  mu ~ normal(0, 100);
  beta ~ normal(0, 100);
  if (re == 1) z ~ std_normal();
  r ~ binomial_logit(n, eta);
}
generated quantities {
  vector[N_arm] p = inv_logit(eta);
  real resdev = 0;
  for (a in 1:N_arm) {
    real rhat = n[a] * p[a];
    real d = 0;
    if (r[a] > 0) d += r[a] * log(r[a] / rhat);
    if (r[a] < n[a]) d += (n[a] - r[a]) * log((n[a] - r[a]) / (n[a] - rhat));
    resdev += 2 * d;
  }
}
