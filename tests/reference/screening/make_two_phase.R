# Reference values for psychanalytics.screening.two_phase_prevalence.
#
# Run from this folder:  Rscript make_two_phase.R   (writes two_phase_survey.json)
# Needs R >= 4.2, survey, jsonlite. Generated 2026-12 with R 4.2.2, survey 4.1-1, jsonlite 1.8.4.
#
# A two-phase design: every student screened (phase 1, strata = screen result), a simple random
# sample of each stratum interviewed (phase 2). survey::twophase(method = "approx") gives the
# estimate and its variance (method = "full" is kept for comparison). The interval is Korn &
# Graubard's: Clopper-Pearson (qbeta) on the effective sample size p (1 - p) / var, as in
# svyciprop(method = "beta") but without its degrees-of-freedom factor
# (qt(a/2, nrow - 1) / qt(a/2, degf))^2, which svyciprop takes from degf(design) whatever its df.
library(survey)
library(jsonlite)

one <- function(npos, nneg, mpos, cpos, mneg, cneg) {
  screen <- c(rep("pos", npos), rep("neg", nneg))
  in2 <- c(rep(TRUE, mpos), rep(FALSE, npos - mpos), rep(TRUE, mneg), rep(FALSE, nneg - mneg))
  case <- c(rep(1, cpos), rep(0, mpos - cpos), rep(NA, npos - mpos),
            rep(1, cneg), rep(0, mneg - cneg), rep(NA, nneg - mneg))
  d <- data.frame(id = seq_along(screen), screen, in2, case)
  approx <- twophase(id = list(~id, ~id), strata = list(NULL, ~screen), subset = ~in2, data = d, method = "approx")
  full <- twophase(id = list(~id, ~id), strata = list(NULL, ~screen), subset = ~in2, data = d, method = "full")
  m <- svymean(~case, approx)
  p <- unname(coef(m)); n_eff <- p * (1 - p) / unname(vcov(m)[1])
  ci <- c(qbeta(0.025, n_eff * p, n_eff * (1 - p) + 1), qbeta(0.975, n_eff * p + 1, n_eff * (1 - p)))
  list(positive = npos, negative = nneg, positive_interviewed = mpos, positive_confirmed = cpos,
       negative_interviewed = mneg, negative_confirmed = cneg,
       estimate = unname(coef(m)), se = unname(SE(m)[1]), se_full = unname(SE(svymean(~case, full))[1]),
       low = ci[1], high = ci[2])
}

cases <- list(one(300, 2100, 120, 54, 150, 3), one(80, 920, 80, 30, 100, 2), one(45, 455, 20, 11, 40, 1))
write_json(list(
  source = list(software = "R 4.2.2, survey 4.1-1 (twophase, svymean), stats::qbeta", script = "make_two_phase.R (this folder)"),
  cases = cases
), "two_phase_survey.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
