# Reference values for psychanalytics.staffing.projection: R's lm, predict(interval = "prediction") and
# confint on two small series (teachers still needed per school year). Run:
#   Rscript tests/reference/staffing/make_projection_r.R > tests/reference/staffing/projection_r.json
series <- list(
  gap = list(year = c(2021, 2022, 2023, 2024), value = c(10, 9, 6, 5), future = c(2025, 2026)),
  share = list(year = c(2021, 2022, 2023, 2024, 2025), value = c(0.45, 0.58, 0.70, 0.80, 0.88),
               future = c(2026, 2027))
)
out <- lapply(series, function(s) {
  fit <- lm(value ~ year, data = data.frame(year = s$year, value = s$value))
  res <- list(year = s$year, value = s$value, future = s$future)
  for (level in c(0.8, 0.95)) {
    p <- predict(fit, newdata = data.frame(year = s$future), interval = "prediction", level = level)
    ci <- confint(fit, "year", level = level)
    res[[sprintf("level_%s", level)]] <- list(
      fit = unname(p[, "fit"]), lwr = unname(p[, "lwr"]), upr = unname(p[, "upr"]),
      slope = unname(coef(fit)[["year"]]), slope_lwr = unname(ci[1, 1]), slope_upr = unname(ci[1, 2])
    )
  }
  res
})
out$source <- paste0("R ", R.version$major, ".", R.version$minor, ": ",
                     "stats::lm, predict.lm(interval = 'prediction'), confint.lm")
cat(jsonlite::toJSON(out, auto_unbox = TRUE, digits = 15, pretty = TRUE))
