# Reference for psychanalytics.outcomes.reliable_change / jt_cutoff:
# R clinicalsignificance 3.0.0 (CRAN, 2025-11-27; github.com/benediktclaus/clinicalsignificance).
#
# The package is not a Debian package and is not installed here. This script reads its example
# data set `claus_2020` (Claus et al.; data/claus_2020.rda of the CRAN source, version 3.0.0) with
# base R and writes the pre (time 1) and post (time 4) scores of BDI-II and HAMD per patient.
# The expected results are the package's own published output, copied below with their place:
#   - inst/doc/distribution-based-approach.html (vignette "2. Distribution-Based Approach"):
#     cs_distribution(claus_2020, id, time, bdi, pre = 1, post = 4, reliability = 0.801)
#   - inst/doc/combined-approach.html: cs_combined(..., bdi, m_functional = 7.69,
#     sd_functional = 7.52, reliability = 0.801) (cutoff type "a", the default)
#   - inst/doc/statistical-approach.html: cs_statistical(..., cutoff_type = "c") (the cutoff value)
#   - tests/testthat/_snaps/cs_distribution.md and cs_combined.md ("Results are correct", JT):
#     hamd, reliability = 0.80 (and m_functional = 8, sd_functional = 8, cutoff_type = "c").
# In the package: lower is better by default (better_is = "lower"); sd_pre and m_clinical /
# sd_clinical are the mean and SD of the pre scores of the patients with both scores; the
# critical value is qnorm(0.975).
#
# Run: Rscript make_clinicalsignificance.R <path to a checkout of the CRAN source 3.0.0>
args <- commandArgs(trailingOnly = TRUE)
load(file.path(args[1], "data", "claus_2020.rda"))
stopifnot(nrow(claus_2020) == 172)
wide <- function(outcome) {
  pre <- claus_2020[claus_2020$time == 1, c("id", outcome)]
  post <- claus_2020[claus_2020$time == 4, c("id", outcome)]
  both <- merge(pre, post, by = "id", all = TRUE, suffixes = c("_pre", "_post"))
  list(id = both$id, pre = both[[paste0(outcome, "_pre")]], post = both[[paste0(outcome, "_post")]])
}
counts <- function(...) as.list(c(...))
out <- list(
  source = list(
    software = "R clinicalsignificance 3.0.0 (CRAN source, github.com/benediktclaus/clinicalsignificance)",
    data = "claus_2020 (data/claus_2020.rda): 43 patients, BDI-II and HAMD at times 1-4; pre = time 1, post = time 4, NA = missing",
    expected = "copied from the package's built vignettes (inst/doc/*.html) and testthat snapshots (tests/testthat/_snaps/*.md) of version 3.0.0",
    script = "make_clinicalsignificance.R (reads the data with base R; the package itself was not run)"
  ),
  data = list(bdi = wide("bdi"), hamd = wide("hamd")),
  cases = list(
    list(
      name = "bdi_jt", outcome = "bdi", reliability = 0.801, where = "distribution-based-approach vignette",
      n_used = 40, counts = counts(improved = 18, unchanged = 22, deteriorated = 0)
    ),
    list(
      name = "bdi_jt_cutoff_a", outcome = "bdi", reliability = 0.801, where = "combined-approach vignette",
      cutoff_kind = "a", cutoff_rounded = 19.16, clinical_mean_rounded = 35.48, clinical_sd_rounded = 8.16,
      n_used = 40,
      counts = counts(recovered = 10, improved = 8, unchanged = 22, deteriorated = 0, harmed = 0)
    ),
    list(
      name = "bdi_cutoff_c", outcome = "bdi", where = "statistical-approach vignette",
      cutoff_kind = "c", functional_mean = 7.69, functional_sd = 7.52, cutoff_rounded = 21.02
    ),
    list(
      name = "hamd_jt", outcome = "hamd", reliability = 0.80, where = "_snaps/cs_distribution.md, JT",
      n_used = 40, counts = counts(improved = 29, unchanged = 10, deteriorated = 1)
    ),
    list(
      name = "hamd_jt_cutoff_c", outcome = "hamd", reliability = 0.80, where = "_snaps/cs_combined.md, JT",
      cutoff_kind = "c", functional_mean = 8, functional_sd = 8, n_used = 40,
      counts = counts(recovered = 26, improved = 3, unchanged = 10, deteriorated = 1, harmed = 0)
    )
  )
)
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           "clinicalsignificance.json")
