# Reference values for psychanalytics.screening.proportion_ci(method = "jeffreys"), including the cases
# R binom's "bayes" method cannot serve (it gives highest-density intervals, which differ from the
# equal-tailed Jeffreys interval at the extremes).
#
# Run from this folder:  Rscript make_proportion_ci.R   (writes proportion_ci_jeffreys.json)
# Generated 2026-12 with R 4.2.2 and jsonlite 1.8.4.
#
# Jeffreys interval (Brown, Cai & DasGupta 2001, Statistical Science 16:101-133, section 4.1.2):
# equal-tailed quantiles of Beta(x + 1/2, n - x + 1/2), with the lower limit 0 when x = 0 and the
# upper limit 1 when x = n.
library(jsonlite)
jeffreys <- function(x, n, level) {
  a <- (1 - level) / 2
  low <- ifelse(x == 0, 0, qbeta(a, x + 0.5, n - x + 0.5))
  high <- ifelse(x == n, 1, qbeta(1 - a, x + 0.5, n - x + 0.5))
  list(count = x, n = n, ci = level, low = low, high = high)
}
x <- c(0, 1, 4, 4, 18, 29, 30, 0, 81, 15, 1, 0)
n <- c(30, 30, 20, 200, 20, 30, 30, 20, 263, 148, 29, 1000)
out <- list(
  source = list(
    software = "R 4.2.2, stats::qbeta",
    script = "make_proportion_ci.R (this folder)",
    method = "Jeffreys equal-tailed interval with the Brown, Cai & DasGupta (2001) boundary rule"
  ),
  cases = list(jeffreys(x, n, 0.95), jeffreys(x, n, 0.99))
)
write_json(out, "proportion_ci_jeffreys.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
