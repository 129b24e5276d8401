# Reference values for psychanalytics.screening.mean_scores: means with school-clustered intervals.
#
# Run from this folder:  Rscript make_mean_scores.R   (writes mean_scores_data.csv and mean_scores_aov.json)
#
# Student-level scores (0-27, like a PHQ-9 total) in 10 schools, two genders, with a school effect.
# For each group the ICC is the one-way ANOVA estimator from R's aov() on the student-level scores
# (Fleiss 1981): rho = (MSB - MSW) / (MSB + (n0 - 1) MSW), n0 = (N - sum(n_i^2) / N) / (k - 1); the design
# effect is 1 + (sum(n_i^2) / N - 1) * max(rho, 0); the interval is Student's t on the effective sample
# n* = N / deff: mean +/- qt(1 - alpha / 2, n* - 1) * sd / sqrt(n*). Unclustered: t.test()$conf.int.
library(jsonlite)

set.seed(20261207)
sizes <- c(35, 80, 52, 120, 64, 28, 95, 70, 44, 110)
schools <- sprintf("S%02d", seq_along(sizes))
effect <- rnorm(length(sizes), 0, 1.6)
students <- do.call(rbind, lapply(seq_along(sizes), function(i) {
  gender <- sample(c("F", "M"), sizes[i], replace = TRUE)
  latent <- 5 + effect[i] + 1.2 * (gender == "F") + rexp(sizes[i], 1 / 3.5)
  data.frame(school = schools[i], gender = gender, score = pmin(27, pmax(0, round(latent))))
}))
write.csv(students, "mean_scores_data.csv", row.names = FALSE, quote = FALSE)

one_group <- function(d) {
  table <- summary(aov(score ~ factor(school), data = d))[[1]]
  msb <- table[1, "Mean Sq"]; msw <- table[2, "Mean Sq"]
  n_i <- as.vector(table(d$school)); N <- sum(n_i); k <- length(n_i)
  n0 <- (N - sum(n_i^2) / N) / (k - 1)
  rho <- (msb - msw) / (msb + (n0 - 1) * msw)
  size <- sum(n_i^2) / N
  deff <- 1 + (size - 1) * max(rho, 0)
  effective <- N / deff
  half <- qt(0.975, effective - 1) * sd(d$score) / sqrt(effective)
  plain <- t.test(d$score)$conf.int
  list(n = N, mean = mean(d$score), sd = sd(d$score), icc = rho, cluster_size = size,
       design_effect = deff, low = mean(d$score) - half, high = mean(d$score) + half,
       t_test_low = plain[1], t_test_high = plain[2])
}

groups <- list(district = one_group(students))
for (g in c("F", "M")) groups[[g]] <- one_group(students[students$gender == g, ])

write_json(list(
  source = list(software = paste0(R.version.string, ", stats::aov, stats::qt, stats::t.test"),
                script = "make_mean_scores.R (this folder)", data = "mean_scores_data.csv (this folder)"),
  groups = groups
), "mean_scores_aov.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
