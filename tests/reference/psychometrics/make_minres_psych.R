# Writes minres_psych.json: R psych's minres factor loadings (unrotated) and omega coefficients at full
# precision, for the two correlation matrices of the omega reference tests and for a nearly
# one-dimensional scale, where the oblique rotation has several local optima.
#
# gad7_demo_corr.csv holds the Pearson correlations (pairwise) of the 18,697 GAD-7 sheets of wave
# 2021-autumn in the default synthetic demo district (psychanalytics demo, seed 20240901, 45,000
# students), written by
#   store.load_items(engine, wave_id="2021-autumn", instrument="gad7")[[f"q{i}" for i in range(1, 8)]]
#        .corr().to_csv("gad7_demo_corr.csv", float_format="%.17g")
#
#   Rscript tests/reference/psychometrics/make_minres_psych.R   (from the repository root)
#
# Needs R with psych (for fa and omega), GPArotation (omega's oblimin rotation) and jsonlite.
# Generated with R 4.2.2, psych 2.2.9, GPArotation 2022.10-2, jsonlite 1.8.4 (Debian 12 packages).
suppressMessages({
  library(psych)
  library(jsonlite)
})

here <- "tests/reference/psychometrics"
matrices <- list(
  harman74 = Harman74.cor$cov,
  thurstone = Thurstone,
  gad7_demo = as.matrix(read.csv(file.path(here, "gad7_demo_corr.csv"), row.names = 1))
)

one <- function(r) {
  unrotated <- fa(r, nfactors = 3, rotate = "none", fm = "minres")
  om <- omega(r, nfactors = 3, fm = "minres", rotate = "oblimin", plot = FALSE)
  list(
    variables = colnames(r),
    matrix = unname(r),
    minres_loadings = unname(unclass(unrotated$loadings)),
    omega_h = om$omega_h,
    omega_t = om$omega.tot,
    alpha = om$alpha
  )
}

out <- c(
  list(source = list(
    software = sprintf(
      "R %s, psych %s, GPArotation %s", getRversion(), packageVersion("psych"), packageVersion("GPArotation")
    ),
    calls = c(
      "fa(r, nfactors = 3, rotate = 'none', fm = 'minres')$loadings (columns as psych signs them)",
      "omega(r, nfactors = 3, fm = 'minres', rotate = 'oblimin')"
    ),
    matrices = paste(
      "harman74: datasets::Harman74.cor$cov (Harman 1976, 24 tests); thurstone: psych::Thurstone;",
      "gad7_demo: gad7_demo_corr.csv (synthetic demo district, see the script)"
    ),
    script = "tests/reference/psychometrics/make_minres_psych.R",
    precision = paste(
      "psych stops its L-BFGS-B search at R's default factr (1e7) with parscale 0.01, so its loadings",
      "are those of the minimum to about 1e-5 and its omega coefficients good to about 1e-6 on harman74",
      "and thurstone. On gad7_demo the residual surface is flat: psych stops at an off-diagonal residual",
      "sum of squares of 2.1881e-5 where psychanalytics reaches 2.1772e-5; omega then differs by about 5e-4"
    )
  )),
  lapply(matrices, one)
)
write_json(out, file.path(here, "minres_psych.json"), digits = NA, pretty = TRUE, auto_unbox = TRUE)
