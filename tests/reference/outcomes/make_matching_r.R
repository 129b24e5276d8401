# Reference for psychanalytics.outcomes.balance (and the "before" columns of match_comparison):
# R MatchIt 4.5.1 summary() of an unmatched sample, matchit(method = NULL, estimand = "ATE"), whose
# "Std. Mean Diff." divides by the pooled SD sqrt((s_t^2 + s_c^2) / 2), with p(1 - p) for a 0/1
# level. MatchIt is the Debian bookworm package r-cran-matchit 4.5.1, unpacked into a private library.
#
# Run: R_LIBS=<library with MatchIt> Rscript make_matching_r.R   (writes matching_r.json)
library(MatchIt)
stopifnot(packageVersion("MatchIt") == "4.5.1")
set.seed(20261204)
n <- 120
d <- data.frame(
  school = sample(c("A", "B", "C"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2)),
  grade = sample(c(7, 8), n, replace = TRUE),
  gender = sample(c("f", "m"), n, replace = TRUE)
)
# participants are more often from school A, girls, and with higher pre scores
p <- plogis(-1.8 + 0.8 * (d$school == "A") + 0.5 * (d$gender == "f"))
d$arm <- ifelse(runif(n) < p, "treatment", "comparison")
d$pre <- round(10 + 2 * (d$arm == "treatment") + rnorm(n, 0, 4))
d$treat <- as.numeric(d$arm == "treatment")
m <- matchit(treat ~ pre + factor(school) + factor(grade) + factor(gender), data = d,
             method = NULL, estimand = "ATE")
s <- summary(m)$sum.all
rows <- lapply(rownames(s), function(r) list(row = r, mean_treatment = s[r, "Means Treated"],
                                              mean_comparison = s[r, "Means Control"],
                                              smd = s[r, "Std. Mean Diff."]))
writeLines(jsonlite::toJSON(list(
  source = list(software = paste("R", getRversion(), "MatchIt", packageVersion("MatchIt")),
                call = "summary(matchit(treat ~ pre + factor(school) + factor(grade) + factor(gender), method = NULL, estimand = 'ATE'))$sum.all",
                script = "make_matching_r.R"),
  students = d[, c("school", "grade", "gender", "arm", "pre")],
  balance = rows), auto_unbox = TRUE, digits = NA, pretty = TRUE, dataframe = "columns"), "matching_r.json")
