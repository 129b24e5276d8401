# Reference for psychanalytics.outcomes.pre_post: R's t.test(paired = TRUE) and
# wilcox.test(paired = TRUE) (package stats, defaults: two-sided, exact when n < 50 without ties or
# zeros, else the normal approximation with continuity correction).
#
# Run: Rscript make_prepost_r.R   (writes prepost_r.json)
set.seed(20261202)
cases <- list(
  # Lakens (2013) Table 3: two zero differences and ties -> normal approximation
  list(name = "lakens_movies", pre = c(9, 6, 7, 8, 7, 9, 8, 8, 8, 7), post = c(9, 7, 8, 9, 8, 9, 9, 10, 9, 9)),
  # no zeros, no ties -> exact
  list(name = "exact", pre = c(20.1, 17.4, 25.3, 15.2, 22.8, 19.9, 18.6, 24.4),
       post = c(14.3, 17.9, 24.1, 21.6, 12.0, 15.1, 16.85, 19.35)),
  # 60 students, integer PHQ-9-like totals: ties and zeros -> normal approximation
  list(name = "phq9_like", pre = (p <- sample(5:19, 60, replace = TRUE)),
       post = pmax(0, pmin(27, p + sample(-6:3, 60, replace = TRUE))))
)
out <- lapply(cases, function(case) {
  t <- t.test(case$post, case$pre, paired = TRUE)
  w <- suppressWarnings(wilcox.test(case$post, case$pre, paired = TRUE))
  nonzero <- sum(case$post != case$pre)
  list(name = case$name, pre = case$pre, post = case$post,
       mean_change = unname(t$estimate), low = t$conf.int[1], high = t$conf.int[2],
       t = unname(t$statistic), df = unname(t$parameter), p = t$p.value,
       wilcoxon_v = unname(w$statistic), wilcoxon_nonzero = nonzero, p_wilcoxon = w$p.value,
       wilcoxon_method = w$method)
})
writeLines(jsonlite::toJSON(list(
  source = list(software = paste("R", getRversion(), "stats::t.test, stats::wilcox.test (paired = TRUE)"),
                note = "V is R's statistic: the sum of the ranks of positive differences post - pre; scipy reports min(V, n(n+1)/2 - V) over the n non-zero differences",
                script = "make_prepost_r.R"),
  cases = out), auto_unbox = TRUE, digits = NA, pretty = TRUE), "prepost_r.json")
