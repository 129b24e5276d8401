# Reference for psychanalytics.outcomes.pool_effects: R metafor 3.8-1 (Debian r-cran-metafor), rma().
# Programmes' standardised effects (d, as the intervention report gives them: an ANCOVA difference over the
# pooled pre SD) with their variances, written here, typical of group counselling with 10-15 students per
# arm: "heterogeneous" (two programmes differ: DerSimonian-Laird tau2 > 0) and "homogeneous" (Q below its
# df: the DL estimate is truncated at 0, and random effects equal fixed).
# Fixed effect (method = "FE") and DerSimonian-Laird random effects (method = "DL"), Wald-type z intervals.
#
# Run: Rscript make_pool_metafor.R   (writes pool_metafor.json)
library(metafor)
datasets <- list(
  heterogeneous = list(
    yi = c(-0.18, -0.33, -0.12, -0.48, -0.27, 0.05, -0.41, -0.22, -0.30, 0.45, -0.85),
    vi = c(0.052, 0.065, 0.041, 0.078, 0.058, 0.072, 0.047, 0.060, 0.055, 0.080, 0.066)
  ),
  homogeneous = list(
    yi = c(-0.18, -0.33, -0.12, -0.48, -0.27, 0.05, -0.41, -0.22, -0.30, 0.35),
    vi = c(0.082, 0.095, 0.071, 0.118, 0.088, 0.102, 0.077, 0.090, 0.085, 0.110)
  )
)
one <- function(fit) {
  list(estimate = as.numeric(fit$beta), se = fit$se, low = fit$ci.lb, high = fit$ci.ub, tau2 = fit$tau2,
       i2 = fit$I2, q = fit$QE, q_p = fit$QEp, k = fit$k)
}
cases <- lapply(names(datasets), function(name) {
  d <- datasets[[name]]
  list(name = name, yi = d$yi, vi = d$vi,
       fixed = one(rma(d$yi, d$vi, method = "FE")), random = one(rma(d$yi, d$vi, method = "DL")))
})
out <- list(
  source = list(
    software = paste("R", getRversion(), "metafor", packageVersion("metafor")),
    calls = "rma(yi, vi, method = 'FE'); rma(yi, vi, method = 'DL')",
    script = "make_pool_metafor.R"
  ),
  cases = cases
)
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "pool_metafor.json")
