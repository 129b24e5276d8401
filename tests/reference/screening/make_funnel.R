# Reference values for psychanalytics.screening.funnel / funnel_limits / overdispersion_estimate.
#
# Run from this folder:  Rscript make_funnel.R   (writes funnel_funnelplotr.json)
# Needs R >= 4.2, jsonlite, and FunnelPlotR 0.5.0 (CRAN release 2024-04; git commit f862bc7 of
# https://github.com/nhs-r-community/FunnelPlotR), installed in the library R searches (R_LIBS).
# Generated 2026-12 with R 4.2.2, FunnelPlotR 0.5.0, jsonlite 1.8.4 (Debian 12).
#
# The data are synthetic: 30 schools with overdispersed screen-positive rates and two planted
# outliers (proportion funnel), and 30 schools with observed / expected cases (ratio funnel).
library(FunnelPlotR)
library(jsonlite)

set.seed(2024)
k <- 30
n <- round(exp(runif(k, log(80), log(1200))))
p <- plogis(qlogis(0.12) + rnorm(k, 0, 0.35))
p[c(5, 17)] <- c(0.30, 0.03)
count <- rbinom(k, n, p)
prop <- data.frame(school = sprintf("S%02d", 1:k), n = n, count = count)

expected <- round(runif(k, 5, 150), 2)
observed <- rpois(k, expected * exp(rnorm(k, 0, 0.25)))
observed[c(3, 22)] <- round(expected[c(3, 22)] * c(2.2, 0.3))
ratio <- data.frame(school = sprintf("S%02d", 1:k), observed = observed, expected = expected)

# FunnelPlotR output, one row per school, sorted by school; FunnelPlotR's outlier flag is
# for `limit = 99` (99.8 %) on the limits drawn (overdispersed when drawn).
rows <- function(fp, numerator, denominator) {
  a <- source_data(fp)
  a <- a[order(as.character(a$group)), ]
  list(
    school = as.character(a$group), numerator = a$numerator, denominator = a$denominator,
    value = a$rr, zscore = a$Uzscore, winsorised_zscore = a$Wuzscore,
    od_ll95 = a$OD95LCL, od_ul95 = a$OD95UCL, od_ll998 = a$OD99LCL, od_ul998 = a$OD99UCL,
    ll95 = a$LCL95, ul95 = a$UCL95, ll998 = a$LCL99, ul998 = a$UCL99, outlier = a$outlier
  )
}

fp_prop <- funnel_plot(prop, numerator = count, denominator = n, group = school, data_type = "PR",
                       draw_adjusted = TRUE, draw_unadjusted = TRUE, limit = 99, trim_by = 0.1)
fp_ratio <- funnel_plot(ratio, numerator = observed, denominator = expected, group = school,
                        data_type = "SR", sr_method = "CQC", draw_adjusted = TRUE,
                        draw_unadjusted = TRUE, limit = 99, trim_by = 0.1)
fp_ratio_unadjusted <- funnel_plot(ratio, numerator = observed, denominator = expected, group = school,
                                   data_type = "SR", draw_adjusted = FALSE, draw_unadjusted = TRUE,
                                   limit = 99)

target <- sum(prop$count) / sum(prop$n)
exact_binomial <- list(
  n = prop$n, target = target,
  ll95 = qbeta(0.025, prop$n * target, prop$n - prop$n * target + 1),
  ul95 = qbeta(0.975, prop$n * target + 1, prop$n - prop$n * target),
  ll998 = qbeta(0.001, prop$n * target, prop$n - prop$n * target + 1),
  ul998 = qbeta(0.999, prop$n * target + 1, prop$n - prop$n * target)
)

out <- list(
  source = list(
    software = "FunnelPlotR 0.5.0 (Mainey et al., NHS-R Community; CRAN 2024-04), R 4.2.2",
    script = "make_funnel.R (this folder)",
    note = paste(
      "proportion: funnel_plot(data_type = 'PR', trim_by = 0.1): arcsine-square-root z-scores,",
      "10 % winsorised, additive tau2; ratio: data_type = 'SR', sr_method = 'CQC' (square-root scale,",
      "winsorised). FunnelPlotR's CQC overdispersed limits are left on the square-root scale",
      "(FunnelPlotR issue #33); psychanalytics squares them back, so its limits are these squared.",
      "exact_binomial: R qbeta, Clopper-Pearson limits at n * target of n."
    )
  ),
  funnelplotr_tests = list(
    source = paste(
      "FunnelPlotR tests/testthat/test-poisson_limits.R: calculate_limits(number_seq = c(15, 20, 30),",
      "target = 1, draw_adjusted = FALSE), expected values rounded by the test to 7 (lower) and 6 (upper) decimals"
    ),
    expected = c(15, 20, 30),
    ll95 = c(0.5596924, 0.6108260, 0.6746958), ul95 = c(1.649348, 1.544419, 1.427562),
    ll998 = c(0.3862650, 0.4479107, 0.5289724), ul998 = c(2.082907, 1.902094, 1.702771)
  ),
  proportion = c(list(phi = phi(fp_prop), tau2 = tau2(fp_prop), target = target),
                 rows(fp_prop)),
  ratio = c(list(phi = phi(fp_ratio), tau2 = tau2(fp_ratio)), rows(fp_ratio)),
  ratio_unadjusted = rows(fp_ratio_unadjusted),
  exact_binomial = exact_binomial
)
write_json(out, "funnel_funnelplotr.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
