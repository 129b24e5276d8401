# Reference for psychanalytics.outcomes.adjust_pvalues: R stats::p.adjust, the example of its help
# page (?p.adjust): 50 p values from set.seed(123); x <- rnorm(50, mean = c(rep(0, 25), rep(3, 25)));
# p <- 2 * pnorm(sort(-abs(x))). Adjusted with "holm" and "BH".
#
# Run: Rscript make_p_adjust_r.R   (writes p_adjust_r.json)
set.seed(123)
x <- rnorm(50, mean = c(rep(0, 25), rep(3, 25)))
p <- 2 * pnorm(sort(-abs(x)))
# a small unsorted set with a tie, in the order given
q <- c(0.04, 0.001, 0.03, 0.2, 0.03, 0.5)
writeLines(jsonlite::toJSON(list(
  source = list(software = paste("R", getRversion(), "stats::p.adjust"),
                where = "example section of ?p.adjust (help page of stats::p.adjust), plus a small unsorted set with a tie",
                script = "make_p_adjust_r.R"),
  cases = list(
    list(name = "help_page_example", p = p, holm = p.adjust(p, "holm"), bh = p.adjust(p, "BH")),
    list(name = "unsorted_with_tie", p = q, holm = p.adjust(q, "holm"), bh = p.adjust(q, "BH"))
  )), auto_unbox = TRUE, digits = NA, pretty = TRUE), "p_adjust_r.json")
