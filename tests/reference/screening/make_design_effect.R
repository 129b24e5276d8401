# Reference values for psychanalytics.screening.design_effect and prevalence(by = ...) across schools.
#
# Run from this folder:  Rscript make_design_effect.R   (writes design_effect_aov.json)
# Generated 2026-12 with R 4.2.2 and jsonlite 1.8.4.
#
# The ICC is the one-way ANOVA estimator computed by R's aov() on the student-level 0/1 data
# (Fleiss 1981; Ridout, Demetrio & Firth 1999): rho = (MSB - MSW) / (MSB + (n0 - 1) MSW),
# n0 = (N - sum(n_i^2) / N) / (k - 1). The design effect is 1 + (sum(n_i^2) / N - 1) * max(rho, 0);
# the interval is the Wilson score interval on the effective sample (count / deff, N / deff).
library(jsonlite)

schools <- data.frame(
  school = rep(sprintf("S%02d", 1:12), each = 2),
  gender = rep(c("F", "M"), 12),
  n = c(210, 190, 95, 105, 330, 310, 60, 64, 150, 170, 240, 220, 120, 130, 45, 52, 400, 380, 88, 90,
        260, 250, 175, 160),
  count = c(25, 14, 20, 9, 31, 22, 4, 6, 26, 12, 19, 17, 21, 8, 9, 3, 35, 30, 6, 11, 40, 15, 12, 13)
)

wilson <- function(x, n, level = 0.95) {
  z <- qnorm(1 - (1 - level) / 2)
  p <- x / n
  centre <- (p + z^2 / (2 * n)) / (1 + z^2 / n)
  half <- z * sqrt(p * (1 - p) / n + z^2 / (4 * n^2)) / (1 + z^2 / n)
  c(centre - half, centre + half)
}

one_group <- function(d) {
  students <- data.frame(
    school = rep(d$school, d$n),
    y = unlist(mapply(function(c, n) c(rep(1, c), rep(0, n - c)), d$count, d$n, SIMPLIFY = FALSE))
  )
  table <- summary(aov(y ~ factor(school), data = students))[[1]]
  msb <- table[1, "Mean Sq"]; msw <- table[2, "Mean Sq"]
  N <- sum(d$n); k <- nrow(d)
  n0 <- (N - sum(d$n^2) / N) / (k - 1)
  rho <- (msb - msw) / (msb + (n0 - 1) * msw)
  size <- sum(d$n^2) / N
  deff <- 1 + (size - 1) * max(rho, 0)
  ci <- wilson(sum(d$count) / deff, N / deff)
  list(n = N, count = sum(d$count), msb = msb, msw = msw, n0 = n0, icc = rho,
       cluster_size = size, design_effect = deff, low = ci[1], high = ci[2])
}

per_school <- aggregate(cbind(n, count) ~ school, data = schools, FUN = sum)
groups <- list(district = one_group(per_school))
for (g in c("F", "M")) groups[[g]] <- one_group(schools[schools$gender == g, ])

write_json(list(
  source = list(software = "R 4.2.2, stats::aov", script = "make_design_effect.R (this folder)"),
  data = schools, groups = groups
), "design_effect_aov.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, dataframe = "columns")
