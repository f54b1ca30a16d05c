# Writes examples/hasselblad1998_network.csv: the full smoking-cessation network of R metadat
# dat.hasselblad1998 (Hasselblad 1998; the network of NICE DSU TSD2, example 4): 24 trials,
# 50 arms, one row per arm, in metadat's order. Study label = metadat's `authors` and `year`;
# treatment = metadat's `trt`; events = quitters (`xi`), total = `ni`. Run from the
# repository root:  Rscript tests/reference/make_hasselblad1998_network.R
suppressMessages(library(metadat))
d <- dat.hasselblad1998
d$label <- paste(d$authors, d$year)
stopifnot(length(unique(d$label)) == length(unique(d$study)))
out <- data.frame(study = d$label, treatment = d$trt, events = d$xi, total = d$ni)
write.csv(out, "examples/hasselblad1998_network.csv", row.names = FALSE, quote = FALSE)
cat(nrow(out), "arms,", length(unique(out$study)), "trials;", as.character(packageVersion("metadat")), "\n")
