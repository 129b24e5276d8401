# Reference for psychanalytics.outcomes.ancova, difference_in_differences and dose_response:
# R lm() with cluster-robust covariance sandwich::vcovCL(type = "HC1") (sandwich 3.0-2) and
# lmtest::coeftest / coefci (lmtest 0.9-40) with t on G - 1 df (G = schools). Data simulated here
# (seeded) and stored with the results. sandwich and lmtest are the Debian bookworm packages
# r-cran-sandwich / r-cran-lmtest, unpacked into a private library.
#
# Run: R_LIBS=<library with sandwich, lmtest> Rscript make_comparison_r.R   (writes comparison_r.json)
library(sandwich)
library(lmtest)
set.seed(20261203)
schools <- 12
n_per <- 16
d <- data.frame(school = rep(sprintf("S%02d", 1:schools), each = n_per))
d$arm <- rep(c("treatment", "comparison"), length.out = nrow(d))
d$gender <- sample(c("f", "m"), nrow(d), replace = TRUE)
school_effect <- rnorm(schools, 0, 1.5)[match(d$school, sprintf("S%02d", 1:schools))]
d$pre <- round(12 + school_effect + rnorm(nrow(d), 0, 3))
d$post <- round(d$pre - 1 - 1.5 * (d$arm == "treatment") + 0.5 * school_effect + rnorm(nrow(d), 0, 2.5))
d$treated <- as.numeric(d$arm == "treatment")
G <- length(unique(d$school))

robust <- function(fit, cluster, terms) {
  V <- vcovCL(fit, cluster = cluster, type = "HC1")
  ct <- coeftest(fit, vcov. = V, df = G - 1)
  ci <- coefci(fit, vcov. = V, df = G - 1)
  lapply(terms, function(term) list(term = term, estimate = unname(ct[term, 1]), se = unname(ct[term, 2]),
                                    statistic = unname(ct[term, 3]), p = unname(ct[term, 4]),
                                    low = unname(ci[term, 1]), high = unname(ci[term, 2])))
}

ancova <- lm(post ~ pre + treated + gender, data = d)
ancova_plain <- lm(post ~ pre + treated, data = d)
plain <- summary(ancova_plain)$coefficients
plain_ci <- confint(ancova_plain)

# difference-in-differences: the same students in two waves; 5 students miss the second wave
long <- rbind(data.frame(pid = seq_len(nrow(d)), wave = "2024-autumn", score = d$pre, arm = d$arm, school = d$school),
              data.frame(pid = seq_len(nrow(d)), wave = "2025-spring", score = d$post, arm = d$arm, school = d$school))
long <- long[!(long$wave == "2025-spring" & long$pid %in% c(3, 20, 41, 77, 150)), ]
long$treated <- as.numeric(long$arm == "treatment")
long$post <- as.numeric(long$wave == "2025-spring")
did <- lm(score ~ treated + post + treated:post, data = long)

# dose: sessions attended (0-8) by the treatment arm
tr <- d[d$arm == "treatment", ]
tr$sessions_attended <- rbinom(nrow(tr), 8, 0.8)
tr$post <- tr$post - 0.3 * (tr$sessions_attended - 6)
tr$change <- tr$post - tr$pre
dose <- lm(change ~ sessions_attended + pre, data = tr)
dose_s <- summary(dose)$coefficients
dose_ci <- confint(dose)

out <- list(
  source = list(
    software = paste("R", getRversion(), "stats::lm, sandwich", packageVersion("sandwich"),
                     "vcovCL(type = 'HC1'), lmtest", packageVersion("lmtest"), "coeftest/coefci(df = G - 1)"),
    note = "HC1 in vcovCL: G/(G-1) * (N-1)/(N-K), as statsmodels' cluster covariance; ordinary OLS rows from summary.lm/confint",
    script = "make_comparison_r.R"
  ),
  students = d[, c("school", "arm", "gender", "pre", "post")],
  scores = long[, c("pid", "wave", "score", "arm", "school")],
  dose_students = tr[, c("school", "sessions_attended", "pre", "post")],
  ancova_cluster = robust(ancova, ~school, c("(Intercept)", "pre", "treated", "genderm")),
  ancova_ols = lapply(c("pre", "treated"), function(term) list(
    term = term, estimate = plain[term, 1], se = plain[term, 2], statistic = plain[term, 3], p = plain[term, 4],
    low = plain_ci[term, 1], high = plain_ci[term, 2])),
  did_cluster = robust(did, ~school, c("treated", "post", "treated:post")),
  dose_ols = list(list(term = "sessions_attended", estimate = dose_s["sessions_attended", 1],
                       se = dose_s["sessions_attended", 2], statistic = dose_s["sessions_attended", 3],
                       p = dose_s["sessions_attended", 4], low = dose_ci["sessions_attended", 1],
                       high = dose_ci["sessions_attended", 2])),
  dose_cluster = robust(dose, ~school, c("sessions_attended"))
)
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, dataframe = "columns"),
           "comparison_r.json")
