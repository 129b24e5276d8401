# Reference for psychanalytics.outcomes.attrition: R stats — Wilson score interval
# (prop.test(count, n, correct = FALSE)$conf.int), Fisher's exact test (fisher.test) of arm x
# dropped, Welch's t test (t.test, var.equal = FALSE) of the pre score, dropped vs completed.
#
# Run: Rscript make_attrition_r.R   (writes attrition_r.json)
set.seed(20261205)
n <- 70
d <- data.frame(arm = rep(c("treatment", "comparison"), c(38, 32)))
d$pre <- round(rnorm(n, 12, 3.5))
# students with higher pre scores leave more often, the comparison arm more than the treatment arm
leave <- runif(n) < plogis(-2.3 + 0.25 * (d$pre - 12) + 0.7 * (d$arm == "comparison"))
d$post <- ifelse(leave, NA, d$pre - round(rnorm(n, 1.5, 2)))
d$pre[c(5, 44)] <- NA  # two students never screened before
arms <- sort(unique(d$arm))
with_pre <- d[!is.na(d$pre), ]
per_arm <- lapply(arms, function(a) {
  x <- with_pre[with_pre$arm == a, ]
  gone <- is.na(x$post)
  ci <- prop.test(sum(gone), nrow(x), correct = FALSE)$conf.int
  w <- t.test(x$pre[gone], x$pre[!gone], var.equal = FALSE)
  list(arm = a, n = nrow(x), count = sum(gone), low = ci[1], high = ci[2],
       without_pre = sum(is.na(d$pre) & d$arm == a),
       mean_dropped = mean(x$pre[gone]), mean_completed = mean(x$pre[!gone]), p_welch = w$p.value)
})
tab <- table(with_pre$arm, is.na(with_pre$post))
writeLines(jsonlite::toJSON(list(
  source = list(software = paste("R", getRversion(), "stats::prop.test(correct = FALSE), fisher.test, t.test(var.equal = FALSE)"),
                script = "make_attrition_r.R"),
  participants = d,
  arms = per_arm,
  p_fisher = fisher.test(tab)$p.value), auto_unbox = TRUE, digits = NA, pretty = TRUE, dataframe = "columns", na = "null"),
  "attrition_r.json")
