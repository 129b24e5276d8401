# Reference values for psychanalytics.screening.trend (GEE, exchangeable working correlation).
#
# Run from this folder:  Rscript make_trend.R   (writes trend_data.csv and trend_geepack.json)
# Needs R >= 4.2, geepack, jsonlite. Generated 2026-12 with R 4.2.2, geepack 1.3.9, jsonlite 1.8.4.
#
# Synthetic data: 14 schools, 20-35 students each, three waves, some students missing a wave;
# a school effect, a student effect and a rise over the waves. Two outcomes: `positive` (0/1,
# logistic GEE) and `score` (linear GEE), with gender as a covariate. Clusters are schools; the
# rows are sorted by school (geeglm needs each cluster's rows together). geeglm estimates the scale
# and the exchangeable correlation with divisors N and the number of pairs (no degrees of freedom
# subtracted); statsmodels agrees with GEE.fit(ddof_scale=0).
library(geepack)
library(jsonlite)

set.seed(11)
schools <- sprintf("S%02d", 1:14)
rows <- list()
for (s in seq_along(schools)) {
  school_effect <- rnorm(1, 0, 0.4)
  for (i in seq_len(sample(20:35, 1))) {
    pid <- sprintf("%s-%02d", schools[s], i)
    gender <- sample(c("F", "M"), 1)
    student <- rnorm(1, 0, 0.8)
    for (w in 1:3) {
      if (runif(1) < 0.1) next
      eta <- qlogis(0.12) + 0.25 * (w - 1) + school_effect + student + 0.3 * (gender == "F")
      score <- 8 + 0.6 * (w - 1) + 2 * school_effect + 2.5 * student + 0.8 * (gender == "F") + rnorm(1, 0, 2.5)
      rows[[length(rows) + 1]] <- data.frame(
        pid = pid, wave = sprintf("W%d", w), school = schools[s], gender = gender,
        positive = rbinom(1, 1, plogis(eta)), score = round(score, 1)
      )
    }
  }
}
d <- do.call(rbind, rows)
d <- d[order(d$school, d$pid, d$wave), ]
write.csv(d, "trend_data.csv", row.names = FALSE)

fit <- function(formula, family) {
  # A 0/1 outcome has variance p (1 - p): its scale is fixed at 1 (geeglm would estimate it).
  binary <- family$family == "binomial"
  m <- geeglm(formula, family = family, data = d, id = factor(school), corstr = "exchangeable",
              scale.fix = binary)
  s <- summary(m)
  # Marginal standardisation: every row set to one wave, predictions averaged; delta-method
  # covariance from the robust covariance vcov(m).
  waves <- sort(unique(d$wave))
  means <- c(); gradients <- NULL
  for (w in waves) {
    dw <- d; dw$wave <- factor(w, levels = waves)
    x <- model.matrix(delete.response(terms(m)), dw)
    mu <- family$linkinv(drop(x %*% coef(m)))
    means <- c(means, mean(mu))
    gradients <- rbind(gradients, colMeans(family$mu.eta(drop(x %*% coef(m))) * x))
  }
  cov <- gradients %*% vcov(m) %*% t(gradients)
  change_se <- sqrt(diag(cov)[-1] + cov[1, 1] - 2 * cov[1, -1])
  list(formula = deparse(formula), family = family$family,
       terms = rownames(s$coefficients), estimate = unname(coef(m)),
       robust_se = unname(s$coefficients[, "Std.err"]),
       alpha = unname(s$corr$Estimate), scale = unname(s$dispersion$Estimate),
       waves = waves, marginal = means, marginal_se = sqrt(diag(cov)),
       change = means[-1] - means[1], change_se = unname(change_se))
}
out <- list(
  source = list(software = "R 4.2.2, geepack 1.3.9 (geeglm, corstr = 'exchangeable', id = school; robust 'san.se' errors)",
                script = "make_trend.R (this folder)", data = "trend_data.csv (this folder)"),
  rate = fit(positive ~ wave, binomial()),
  rate_gender = fit(positive ~ wave + gender, binomial()),
  mean = fit(score ~ wave + gender, gaussian())
)
write_json(out, "trend_geepack.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
