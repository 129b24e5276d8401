# Reference for psychanalytics.outcomes.mixed_model: R lme4 (Debian bookworm r-cran-lme4) lmer with
# random intercepts for school and class within school, and performance::icc(by_group = TRUE)
# (r-cran-performance 0.10.2, unpacked into a private library). Data simulated here (seeded) and
# stored with the results.
#
# Run: R_LIBS=<library with performance> Rscript make_mixed_lme4.R   (writes mixed_lme4.json)
library(lme4)
set.seed(20261206)
schools <- 15
classes <- 4
per_class <- 10
d <- expand.grid(student = 1:per_class, class = 1:classes, school = sprintf("S%02d", 1:schools),
                 stringsAsFactors = FALSE)
d$arm <- ifelse(d$class %% 2 == 1, "treatment", "comparison")
u <- rnorm(schools, 0, 1.2)[match(d$school, sprintf("S%02d", 1:schools))]
v <- rnorm(schools * classes, 0, 0.8)[(match(d$school, sprintf("S%02d", 1:schools)) - 1) * classes + d$class]
d$pre <- round(rnorm(nrow(d), 12, 3.5), 1)
d$post <- round(3 + 0.7 * d$pre - 1.2 * (d$arm == "treatment") + u + v + rnorm(nrow(d), 0, 2.2), 1)

fit_one <- function(formula, reml) {
  m <- lmer(formula, data = d, REML = reml)
  vc <- as.data.frame(VarCorr(m))
  icc <- performance::icc(m, by_group = TRUE)
  list(formula = deparse(formula), reml = reml,
       fixed = lapply(names(fixef(m)), function(term) list(term = term, estimate = unname(fixef(m)[term]),
                                                            se = unname(sqrt(diag(vcov(m)))[names(fixef(m)) == term]))),
       variance = lapply(seq_len(nrow(vc)), function(i) list(group = vc$grp[i], variance = vc$vcov[i])),
       icc = lapply(seq_len(nrow(icc)), function(i) list(group = icc$Group[i], icc = icc$ICC[i])),
       loglike = as.numeric(logLik(m)))
}
out <- list(
  source = list(software = paste("R", getRversion(), "lme4", packageVersion("lme4"),
                                 "performance", packageVersion("performance")),
                note = "lmer(post ~ pre + arm + (1 | school) + (1 | school:class)); arm 'comparison' is the reference level ('armtreatment'); the class ids 1-4 repeat across schools; icc: performance::icc(m, by_group = TRUE) = each level's variance / total",
                script = "make_mixed_lme4.R"),
  students = d[, c("school", "class", "arm", "pre", "post")],
  models = list(
    fit_one(post ~ pre + arm + (1 | school) + (1 | school:class), TRUE),
    fit_one(post ~ pre + arm + (1 | school) + (1 | school:class), FALSE),
    fit_one(post ~ pre + arm + (1 | school), TRUE)
  )
)
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, dataframe = "columns"),
           "mixed_lme4.json")
