# Reference values for psychanalytics.screening.true_prevalence.
#
# Run from this folder:  Rscript make_true_prevalence.R PATH/TO/CI4TruePrevalence.r
#   (writes true_prevalence.json)
# The argument is a local copy of Jenő Reiczigel's published R script for Lang & Reiczigel (2014),
# "Confidence limits for prevalence of disease adjusted for estimated sensitivity and specificity",
# Prev Vet Med 113:13-22: http://www2.univet.hu/users/jreiczig/CI4prevSeSp/CI4TruePrevalence_15_03_2013.r
# (function CI_Binom(nprev, kprev, nsens, ksens, nspec, kspec, conflevel)). It is not kept here.
# Generated 2026-12 with R 4.2.2 and jsonlite 1.8.4, from the function as adapted by M. Flor (one
# added line returning NA when sensitivity + specificity <= 1, which no case here reaches).
#
# Validation counts: ksens = Se * n_cases, kspec = Sp * n_noncases (fractional when the published
# percentages are rounded, as in Kroenke 2001: 88 % of 41 cases, 88 % of 539 non-cases).
library(jsonlite)
args <- commandArgs(trailingOnly = TRUE)
source(args[1])

cases <- data.frame(
  count = c(312, 600, 300, 500, 9),
  n = c(2400, 2400, 1000, 2000, 150),
  sensitivity = c(0.88, 0.88, 0.895, 0.89, 0.88),
  specificity = c(0.88, 0.88, 0.775, 0.82, 0.88),
  n_cases = c(41, 41, 38, 73, 41),
  n_noncases = c(539, 539, 404, 892, 539),
  ci = c(0.95, 0.95, 0.95, 0.99, 0.95)
)
limits <- t(mapply(function(k, n, se, sp, nc, nn, level) CI_Binom(n, k, nc, se * nc, nn, sp * nn, level),
                   cases$count, cases$n, cases$sensitivity, cases$specificity, cases$n_cases,
                   cases$n_noncases, cases$ci))
cases$rogan_gladen <- (cases$count / cases$n + cases$specificity - 1) / (cases$sensitivity + cases$specificity - 1)
cases$low <- limits[, 1]
cases$high <- limits[, 2]

write_json(list(
  lang_reiczigel = list(
    source = list(
      software = "R 4.2.2; J. Reiczigel's CI_Binom (CI4TruePrevalence_15_03_2013.r) for Lang & Reiczigel (2014)",
      script = "make_true_prevalence.R (this folder)",
      note = "Validation-study sizes are illustrative except 41 / 539 (Kroenke 2001, PHQ-9 >= 10)."
    ),
    cases = cases
  ),
  epir_example = list(
    source = list(
      software = "epiR::epi.prev documentation (Stevenson et al.), example 2: Moujaber et al. (2008), Helicobacter pylori in 1-4 year olds",
      call = "epi.prev(pos = 6, tested = 151, se = 0.964, sp = 0.927, method = 'c-p', units = 100, conf.level = 0.95)",
      printed = "0 cases per 100 (95% 0 -- 1.3 cases per 100)",
      note = "Sensitivity and specificity treated as exact; the Rogan-Gladen transform of the Clopper-Pearson interval, held to [0, 1]."
    ),
    count = 6, n = 151, sensitivity = 0.964, specificity = 0.927, estimate = 0, low = 0, high = 0.013, decimals = 3
  )
), "true_prevalence.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, dataframe = "rows")
