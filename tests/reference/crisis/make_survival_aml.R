# Kaplan-Meier reference values for psychanalytics.crisis.survival, from R's survival package.
#
#   Rscript tests/reference/crisis/make_survival_aml.R > tests/reference/crisis/survival_aml.json
#
# Data: survival::aml (Miller 1981: maintenance chemotherapy for acute myelogenous leukaemia, 23 patients,
# weeks to relapse), whole and by arm; plus two small hand-made samples whose curve lies exactly at 0.5 over
# an interval (R takes the median at the midpoint of that interval) and one with no event at all.
# Intervals: conf.type = "log-log" (the transform psychanalytics uses), 95 %.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

samples <- list(
  aml = aml[, c("time", "status")],
  aml_maintained = aml[aml$x == "Maintained", c("time", "status")],
  aml_nonmaintained = aml[aml$x == "Nonmaintained", c("time", "status")],
  flat_half_then_event = data.frame(time = c(1, 2, 3, 4), status = c(1, 1, 1, 1)),
  flat_half_to_end = data.frame(time = c(1, 2, 3, 3.5), status = c(1, 1, 0, 0)),
  ties_and_censoring = data.frame(
    time = c(0.5, 2, 2, 2, 3, 3, 5, 7, 7, 8, 11, 12),
    status = c(1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0)
  ),
  no_event = data.frame(time = c(2, 4, 9), status = c(0, 0, 0))
)

na_to_null <- function(x) ifelse(is.na(x), NA, x)

result <- lapply(samples, function(d) {
  fit <- survfit(Surv(time, status) ~ 1, data = d, conf.type = "log-log", conf.int = 0.95)
  s <- summary(fit, censored = FALSE)
  q <- quantile(fit, probs = 0.5)
  list(
    time = d$time,
    status = d$status,
    table = list(
      time = s$time,
      at_risk = s$n.risk,
      events = s$n.event,
      survival = s$surv,
      low = na_to_null(s$lower),
      high = na_to_null(s$upper)
    ),
    median = unname(q$quantile),
    median_low = unname(q$lower),
    median_high = unname(q$upper)
  )
})

cat(toJSON(
  list(
    source = paste0(
      "R ", R.version$major, ".", R.version$minor, ", survival ", packageVersion("survival"),
      ": survfit(Surv(time, status) ~ 1, conf.type = 'log-log'), summary(fit, censored = FALSE), ",
      "quantile(fit, 0.5); data survival::aml (Miller 1981) and hand-made samples; ",
      "made by tests/reference/crisis/make_survival_aml.R"
    ),
    samples = result
  ),
  auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE
), "\n")
