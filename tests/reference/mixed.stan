// The mixed-format binomial-normal model (bayesmeta --model mixed): count studies contribute
// two binomial arms with their own baseline alpha, reported studies a normal likelihood of
// their reported log odds ratio y with known standard error se; all share
// theta[i] = mu + tau * z[i]. Used by tests/reference/stan_mixed.R.
data {
  int<lower=1> K;                    // studies
  int<lower=0> Kc;                   // of them with counts
  int<lower=1, upper=K> ic[Kc];      // their positions
  int rt[Kc]; int nt[Kc]; int rc[Kc]; int nc[Kc];
  int<lower=0> Kr;                   // with a reported log odds ratio
  int<lower=1, upper=K> ir[Kr];
  vector[Kr] y; vector<lower=0>[Kr] se;
  real mu_sd; real tau_sd; real alpha_sd;
}
parameters { vector[Kc] alpha; real mu; real<lower=0> tau; vector[K] z; }
transformed parameters { vector[K] theta = mu + tau * z; }
model {
  alpha ~ normal(0, alpha_sd); mu ~ normal(0, mu_sd); tau ~ normal(0, tau_sd);
  z ~ std_normal();
  rc ~ binomial_logit(nc, alpha);
  rt ~ binomial_logit(nt, alpha + theta[ic]);
  y ~ normal(theta[ir], se);
}
generated quantities { real theta_new = normal_rng(mu, tau); }
