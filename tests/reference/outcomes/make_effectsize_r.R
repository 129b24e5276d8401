# Reference for psychanalytics.outcomes.effect_size: R effectsize 0.8.3 (Debian bookworm
# r-cran-effectsize 0.8.3+dfsg-1, unpacked into a private library with its Debian dependencies).
# cohens_d() / hedges_g() with pooled SD; intervals from the noncentral t distribution.
#
# Run: R_LIBS=<library with effectsize> Rscript make_effectsize_r.R   (writes effectsize_r.json)
library(effectsize)
stopifnot(packageVersion("effectsize") == "0.8.3")

# Lakens (2013), Table 3: movie ratings
movie_1 <- c(9, 7, 8, 9, 8, 9, 9, 10, 9, 9)
movie_2 <- c(9, 6, 7, 8, 7, 9, 8, 8, 8, 7)
# two groups of unequal size and spread, rounded to two decimals so the JSON holds them exactly
set.seed(20261201)
group_a <- round(rnorm(14, 10, 2), 2)
group_b <- round(rnorm(11, 8.5, 3), 2)
# pre/post of 12 students on a symptom scale
pre <- round(rnorm(12, 14, 4), 1)
post <- round(pre - 2 + rnorm(12, 0, 2.5), 1)
# a whole year group's change (212 pairs, t about -20): far in the tails, where scipy's noncentral t
# returns NaN for some noncentralities. effectsize's uniroot is coarse there: its upper bound is 2.4e-5 from
# the exact one (P(T <= t) = 0.0250136 there by quadrature in mpmath), so the test allows 1e-4 for this case
large_pre <- round(rnorm(212, 36, 14))
large_post <- round(large_pre - 11 + rnorm(212, 0, 8))

one <- function(name, x, y, call, kind, paired, ci, fn) {
  r <- fn(x, y, ci = ci)
  list(name = name, call = call, kind = kind, paired = paired, ci_level = ci, x = x, y = y,
       value = r[[1]], low = r$CI_low, high = r$CI_high)
}
cases <- list(
  one("lakens_d", movie_1, movie_2, "cohens_d(movie_1, movie_2)", "cohen_d", FALSE, 0.95,
      function(x, y, ci) cohens_d(x, y, ci = ci)),
  one("lakens_g", movie_1, movie_2, "hedges_g(movie_1, movie_2)", "hedges_g", FALSE, 0.95,
      function(x, y, ci) hedges_g(x, y, ci = ci)),
  one("lakens_dz", movie_1, movie_2, "cohens_d(movie_1, movie_2, paired = TRUE)", "cohen_dz", TRUE, 0.95,
      function(x, y, ci) cohens_d(x, y, paired = TRUE, ci = ci)),
  one("unequal_d", group_a, group_b, "cohens_d(group_a, group_b)", "cohen_d", FALSE, 0.95,
      function(x, y, ci) cohens_d(x, y, ci = ci)),
  one("unequal_g_90", group_a, group_b, "hedges_g(group_a, group_b, ci = 0.90)", "hedges_g", FALSE, 0.90,
      function(x, y, ci) hedges_g(x, y, ci = ci)),
  one("prepost_dz", post, pre, "cohens_d(post, pre, paired = TRUE)", "cohen_dz", TRUE, 0.95,
      function(x, y, ci) cohens_d(x, y, paired = TRUE, ci = ci)),
  one("large_dz", large_post, large_pre, "cohens_d(large_post, large_pre, paired = TRUE)", "cohen_dz", TRUE,
      0.95, function(x, y, ci) cohens_d(x, y, paired = TRUE, ci = ci))
)
out <- list(
  source = list(
    software = paste("R", getRversion(), "effectsize", packageVersion("effectsize")),
    functions = "effectsize::cohens_d, effectsize::hedges_g (pooled_sd = TRUE; paired = TRUE gives d_z)",
    script = "make_effectsize_r.R"
  ),
  cases = cases
)
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "effectsize_r.json")
